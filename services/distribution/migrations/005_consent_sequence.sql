-- Consent changes apply in the order the consent service made them (ADR 0019): each record
-- carries the proof ledger's sequence number of its change, and a change applies only if
-- its sequence is above the one held. Wall-clock `changed_at` decided this until now, so a
-- clock step back on a consent replica could make a withdrawal look older than the consent
-- it withdraws, and it was dropped (review S7). Rows from before hold 0: any change applies.
ALTER TABLE consents ADD COLUMN sequence bigint NOT NULL DEFAULT 0;
ALTER TABLE consents DROP COLUMN changed_at;

-- A share a connector was asked to post, cancelled before it reported (a withdrawal, an
-- erasure): why (consent_withdrawn, advocate_erased). If the connector then reports it
-- posted it after all, it is asked to take the post down, once (the column is cleared).
ALTER TABLE shares ADD COLUMN recalled text;
