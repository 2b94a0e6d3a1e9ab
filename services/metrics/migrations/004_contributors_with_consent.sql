-- Metrics keeps a per-person key only for people who allow share_attribution (review S5):
-- `contributors` (advocate id -> token) holds them alone, and a withdrawal deletes the row.
-- Everyone else's shares get a token per person and UTC day of the share, a hash of the
-- person with that day's random salt: it counts them as one contributor per day in group
-- figures (k-anonymity), and once the salt is deleted (forget_visitors' schedule, two days
-- after it was made) nobody can link those shares to anyone again (ADR 0019).
CREATE TABLE contributor_salts (
    day     date PRIMARY KEY,
    salt    uuid NOT NULL DEFAULT gen_random_uuid(),
    made_at timestamptz NOT NULL DEFAULT now()
);
DELETE FROM contributors c WHERE NOT EXISTS (
    SELECT 1 FROM consents k WHERE k.advocate_id = c.advocate_id AND k.purpose = 'share_attribution' AND k.valid);

-- People erased, by a salted hash of their id (no raw id): an event that arrives after the
-- erasure (a late share, a consent record or a directory profile replayed) re-creates nobody.
CREATE TABLE erasure_salt (salt text NOT NULL);
INSERT INTO erasure_salt SELECT gen_random_uuid()::text;
CREATE TABLE erased (ref text PRIMARY KEY);
