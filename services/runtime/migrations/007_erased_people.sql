-- People erased, remembered without their id (services/runtime/directory.py, ADR 0035
-- addendum): the directory topic is not ordered with consent's `advocate.erased`, so a
-- profile announced before an erasure can arrive after it (a CRM's late event, a replayed
-- or re-read directory topic) and would put the erased id back into `people`. A row holds a
-- salted SHA-256 of the id (the salt is this schema's own, random, never leaves it) and the
-- time the erasure covers; a profile announced after that time (a rejoin) applies.
-- Erasures done before this migration are not remembered: nothing of them was kept.
CREATE TABLE erased_people_salt (salt text NOT NULL);
INSERT INTO erased_people_salt SELECT gen_random_uuid()::text;
CREATE TABLE erased_people (
    ref   text PRIMARY KEY,
    as_of timestamptz NOT NULL
);
-- One salt per schema: a second row would fail every profile's upsert.
CREATE UNIQUE INDEX erased_people_salt_one_row ON erased_people_salt ((true));
