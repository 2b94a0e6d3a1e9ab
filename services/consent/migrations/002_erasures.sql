-- The record of each erasure beside its ledger entry: who asked and, when the privacy
-- office erased someone on their behalf, the reason it gave. The ledger holds no text (ADR
-- 0005), so the reason lives here; like the ledger, it names people only by the keyed
-- pseudonym, so erasing the person (or later the officer) leaves no raw id behind.
-- No foreign key to the ledger: its check locks the ledger row FOR KEY SHARE, which needs
-- the UPDATE privilege the role gave up on the ledger (001).
CREATE TABLE erasures (
    entry_hash       text PRIMARY KEY,  -- the ledger entry recording the erasure
    subject_ref      text NOT NULL,  -- the erased person's pseudonym, as in the ledger
    requested_by_ref text NOT NULL,  -- the pseudonym of who asked: the person, an officer or a system
    changed_by       text NOT NULL,  -- subject (the person asked) or controller
    reason           text,           -- the privacy office's reason; NULL when the person asked, or over Kafka
    erased_at        timestamptz NOT NULL
);
CREATE INDEX erasures_subject ON erasures (subject_ref);
