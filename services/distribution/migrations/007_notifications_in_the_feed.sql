-- A notification waiting for its time is a column pair of the feed entry it is about (ADR
-- 0025), not a row of its own: a fan-out to a million people wrote a feed row and a
-- pending_notifications row per person, each with three indexes. `digest` and `due_at` are
-- set when the entry is delivered (NULL for people whose digest is off) and cleared when the
-- notification is sent; deleting the entry (a withdrawal, a retraction, an erasure) takes its
-- notification with it.
ALTER TABLE feed ADD COLUMN digest text, ADD COLUMN due_at timestamptz;
UPDATE feed f SET digest = p.digest, due_at = p.due_at
FROM pending_notifications p WHERE p.advocate_id = f.advocate_id AND p.item_id = f.item_id;
-- Queued notifications whose entry is gone were for someone the item no longer reaches.
-- The table stays for this release: during a rolling upgrade, pods of the version before
-- still queue rows in it (their fan-out, backfill and daily-cap postponement), and the new
-- notifier adopts them into their entries (store.adopt_queued_notifications). A later
-- release drops it, once no pod of the version before 007 runs.
DELETE FROM pending_notifications;
CREATE INDEX feed_due ON feed (due_at) WHERE due_at IS NOT NULL;
-- The key leads with the item: a fan-out appends one item's entries in order, and a retraction
-- finds them by it, so `feed_item` is no longer needed; a person's entries are found by
-- `feed_newest_first`, and one entry by the whole key either way.
ALTER TABLE feed DROP CONSTRAINT feed_pkey, ADD PRIMARY KEY (item_id, advocate_id);
DROP INDEX feed_item;
-- What waits to be told, for operators and tests (reading only).
CREATE VIEW waiting_notifications AS
    SELECT advocate_id, item_id, digest, due_at FROM feed WHERE due_at IS NOT NULL;
