-- Where a person stands on a purpose: the columns the HTTP API answers from (store.py,
-- Standing): the person's record (NULLs: never answered), the policy version it names (seen)
-- and the purpose's current one (cur).
CREATE TYPE standing AS (
    purpose text, advocate_id text, status text, policy_version integer, policy_hash text,
    collection_method text, changed_by text, changed_at timestamptz, expires_at timestamptz,
    seen_version integer, seen_text text, seen_content_hash text, seen_requires_renewal boolean,
    seen_published_at timestamptz,
    cur_version integer, cur_text text, cur_content_hash text, cur_requires_renewal boolean,
    cur_published_at timestamptz
);

-- Every purpose, each joined by primary key to the person's record and to the two policies
-- (store.py, standings_of). One SELECT in SQL: the planner inlines it into its caller.
CREATE FUNCTION standings(p_advocate text) RETURNS SETOF standing LANGUAGE sql STABLE AS $$
    SELECT p.purpose, c.advocate_id, c.status, c.policy_version, c.policy_hash, c.collection_method,
           c.changed_by, c.changed_at, c.expires_at,
           seen.version, seen.text, seen.content_hash, seen.requires_renewal, seen.published_at,
           cur.version, cur.text, cur.content_hash, cur.requires_renewal, cur.published_at
    FROM purposes p
    LEFT JOIN consents c ON c.advocate_id = p_advocate AND c.purpose = p.purpose
    LEFT JOIN policies seen ON seen.purpose = p.purpose AND seen.version = c.policy_version
    LEFT JOIN policies cur ON cur.purpose = p.purpose AND cur.version = p.current_version
$$;

-- A withdrawal and the standings it leaves, in one round trip instead of two (store.py,
-- withdraw): the person's records of `p_purposes` in one of the statuses `p_from` move to
-- `p_to` (as store.py's _TRANSITION moves records), then the standings of `p_purposes` are
-- read, each marked with whether this withdrawal changed it. Each statement of a VOLATILE
-- plpgsql function takes a snapshot of its own (read committed), as separate statements did:
-- the standings are read as they are once the withdrawal is made (a record it waited for, a
-- policy published meanwhile), and only the records it changes are locked. In one statement
-- its reads would see the tables as they were before it waited. It returns the standing as
-- one composite column: OUT columns named as consents' (status, purpose…) would clash with
-- them in the UPDATE.
CREATE FUNCTION withdrawal_standings(p_advocate text, p_purposes text[], p_from text[], p_to text, p_by text,
                                     p_at timestamptz)
RETURNS TABLE (withdrawn boolean, standing standing) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    changed text[];
BEGIN
    WITH w AS (
        UPDATE consents c SET status = p_to, changed_by = p_by, changed_at = p_at, expires_at = NULL,
                              collection_method = NULL
        WHERE c.advocate_id = p_advocate AND c.purpose = ANY(p_purposes) AND c.status = ANY(p_from)
        RETURNING c.purpose)
    SELECT coalesce(array_agg(w.purpose), '{}') INTO changed FROM w;
    RETURN QUERY SELECT s.purpose = ANY(changed), s FROM standings(p_advocate) s WHERE s.purpose = ANY(p_purposes);
END $$;
