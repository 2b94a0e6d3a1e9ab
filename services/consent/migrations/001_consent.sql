-- Purposes and their current policy version. Giving consent takes this row FOR SHARE and
-- publishing a version updates it, so a consent given while a version that requires
-- renewal is published is either rejected as outdated or moved to renewal_requested.
CREATE TABLE purposes (
    purpose         text PRIMARY KEY,
    current_version integer,
    current_hash    text
);
INSERT INTO purposes (purpose) VALUES
    ('receive_content'), ('share_attribution'), ('network_reach'), ('leaderboard'), ('scheduled_sharing');

CREATE TABLE policies (
    purpose          text NOT NULL REFERENCES purposes,
    version          integer NOT NULL,
    text             text NOT NULL,
    content_hash     text NOT NULL,
    requires_renewal boolean NOT NULL,
    published_at     timestamptz NOT NULL,
    PRIMARY KEY (purpose, version)
);

-- The current consent per advocate and purpose; deleted on erasure.
CREATE TABLE consents (
    advocate_id       text NOT NULL,
    purpose           text NOT NULL REFERENCES purposes,
    status            text NOT NULL,
    policy_version    integer,
    policy_hash       text,
    collection_method text,
    changed_by        text NOT NULL,
    changed_at        timestamptz NOT NULL,
    expires_at        timestamptz,
    PRIMARY KEY (advocate_id, purpose)
);
-- The expiry schedule's question: which valid consents are due?
CREATE INDEX consents_due ON consents (expires_at) WHERE status IN ('given', 'renewed_given');
CREATE INDEX consents_purpose_valid ON consents (purpose) WHERE status IN ('given', 'renewed_given');

-- The proof ledger: append-only, each entry hashing the previous one. It refers to a
-- person only by `subject_ref`, a keyed one-way pseudonym, so erasure leaves it intact.
CREATE TABLE ledger (
    seq            bigserial PRIMARY KEY,
    subject_ref    text,  -- NULL for entries about a policy, not a person
    purpose        text,
    change         text NOT NULL,  -- a status, or policy_published, or erased
    policy_version integer,
    policy_hash    text,
    method         text,
    changed_by     text NOT NULL,
    occurred_at    timestamptz NOT NULL,
    prev_hash      text NOT NULL,
    entry_hash     text NOT NULL UNIQUE
);
CREATE INDEX ledger_subject ON ledger (subject_ref, seq);

CREATE FUNCTION ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the consent ledger is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ledger_no_update_or_delete BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_is_append_only();
-- The owner could re-grant itself these; the trigger and the hash chain are what hold.
REVOKE UPDATE, DELETE, TRUNCATE ON ledger FROM CURRENT_USER;
