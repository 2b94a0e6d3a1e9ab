-- A visitor's machine requests (a HEAD, a prefetch, a link preview from the same browser)
-- are counted apart from their clicks, in the same row: `clicks` a person's, and
-- `machine_requests`; `bot` only while there is no click. The row used to turn `bot` for good
-- at the first such request, taking the visitor's clicks of the day, counted before and
-- after, out of every figure (a new user, 2026-12-02). The key stays, so code of the version
-- before, still running during a rollout or after a rollback, writes as it did (docs/
-- operators.md: a migration keeps the old code working). A row that is a machine's holds
-- machine requests only; rows merged before cannot be told apart again and stay out of the
-- figures, as they were. Adding a column with a constant default rewrites nothing.
ALTER TABLE clicks ADD COLUMN machine_requests integer NOT NULL DEFAULT 0;
UPDATE clicks SET machine_requests = clicks, clicks = 0 WHERE bot;
