-- Review fixes: a consent change applies only if it is newer than what we hold (a replayed
-- or late event must not turn a "no" back into a "yes"); a share keeps the target it was
-- created for (a later edit of the item must not repoint links already posted); and
-- retraction finds an item's pending notifications by index.
ALTER TABLE consents ADD COLUMN changed_at timestamptz NOT NULL DEFAULT '-infinity';
ALTER TABLE shares ADD COLUMN target_url text;
CREATE INDEX pending_notifications_item ON pending_notifications (item_id);
