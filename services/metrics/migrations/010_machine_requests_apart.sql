-- A visitor's machine requests (a HEAD, a prefetch, a link preview from the same browser)
-- are counted apart from their clicks: one row per (share, day, visitor, bot). The row used
-- to turn `bot` for good at the first such request, taking the visitor's clicks of the day,
-- counted before and after, out of every figure (a new user, 2026-12-02). Rows already
-- merged cannot be told apart again and stay as they are.
ALTER TABLE clicks DROP CONSTRAINT clicks_pkey;
ALTER TABLE clicks ADD PRIMARY KEY (share_id, day, visitor, bot);
