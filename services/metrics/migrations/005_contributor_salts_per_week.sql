-- Contributor tokens of people without share_attribution: one per person and week (UTC,
-- from Monday), not per day. Disclosure control counts distinct people per whole week (ADR
-- 0020); with a token per day, one person sharing on three days of a week counted as three
-- towards k. A week's salt is deleted once the week has been over for two days, so it is
-- never made twice for the same week while shares of it still arrive in order. Salts of
-- days made before this migration go now: the shares under them link to nobody already.
DELETE FROM contributor_salts;
ALTER TABLE contributor_salts RENAME COLUMN day TO week;
ALTER TABLE contributor_salts ADD CONSTRAINT contributor_salts_monday CHECK (extract(isodow FROM week) = 1);
