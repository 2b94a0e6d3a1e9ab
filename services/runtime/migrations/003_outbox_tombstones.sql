-- A NULL payload is a tombstone: the relay sends a null value, which deletes the key
-- from a compacted topic (e.g. a person's consent state on erasure).
ALTER TABLE outbox ALTER COLUMN payload DROP NOT NULL;
