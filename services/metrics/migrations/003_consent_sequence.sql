-- Consent changes apply in the order the consent service made them (ADR 0019): only a
-- record whose ledger sequence is above the one held changes a consent, so a late or
-- replayed "given" cannot undo a withdrawal (review S7; metrics had no guard at all).
-- Rows from before hold 0: any change applies.
ALTER TABLE consents ADD COLUMN sequence bigint NOT NULL DEFAULT 0;
