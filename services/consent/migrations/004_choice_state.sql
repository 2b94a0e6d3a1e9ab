-- What a give or a refusal reads, in one round trip instead of two (store.py, choice_state),
-- with its locks in the order the two statements before took them: the person in the
-- directory (FOR NO KEY UPDATE), the purpose's current policy (FOR SHARE), then the person's
-- record of that purpose (FOR UPDATE). A plpgsql function runs its statements one after
-- another, each with a snapshot of its own (VOLATILE, read committed), as separate statements
-- did: a row read after waiting for its lock is read as it is once the lock is granted.
CREATE FUNCTION choice_state(p_advocate text, p_purpose text,
                             OUT known boolean, OUT current_version integer, OUT current_hash text,
                             OUT status text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM people WHERE advocate_id = p_advocate FOR NO KEY UPDATE;
    known := FOUND;
    IF NOT known THEN
        RETURN;  -- refused: nothing else is read or locked
    END IF;
    SELECT p.current_version, p.current_hash INTO current_version, current_hash
        FROM purposes p WHERE p.purpose = p_purpose FOR SHARE;
    IF NOT FOUND THEN
        RETURN;  -- no such purpose row: no policy, and the record is not locked
    END IF;
    SELECT c.status INTO status FROM consents c
        WHERE c.advocate_id = p_advocate AND c.purpose = p_purpose FOR UPDATE;
END $$;
