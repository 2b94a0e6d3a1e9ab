-- The proof ledger's lock and head in one round trip (ledger.py, append_numbered): the
-- chain's advisory lock, held until the transaction ends, then the head as it is once the
-- lock is granted. Each statement of a VOLATILE function takes a snapshot of its own (read
-- committed), so the head is read after the lock and sees every append committed before it;
-- in one statement of the caller's, the snapshot would be taken before the lock.
CREATE FUNCTION ledger_locked_head(OUT seq bigint, OUT entry_hash text) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(current_schema() || ':ledger'));
    SELECT l.seq, l.entry_hash INTO seq, entry_hash FROM ledger l ORDER BY l.seq DESC LIMIT 1;
END $$;
