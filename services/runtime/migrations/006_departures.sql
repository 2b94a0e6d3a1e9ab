-- Who left the directory, and when (services/runtime/directory.py, ADR 0035): a profile
-- announced before a departure but arriving after it (a CRM's late event, a replayed
-- partition) must not bring the person back. One row per person who left, by pseudonymous id
-- and the time of the departure only; a join or change announced later removes it, and so
-- does an erasure.
CREATE TABLE departures (
    advocate_id text PRIMARY KEY,
    as_of       timestamptz NOT NULL
);
