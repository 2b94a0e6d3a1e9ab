-- A first fan-out's notifications wait as one row per item and digest, not in each entry's
-- `due_at` (ADR 0044): its entries keep their `digest` with `due_at` NULL, so they take no
-- `feed_due` entry (about a seventh of a fan-out to a million people). The notifier walks
-- the item's entries in key order from `sent_through` (the last person claimed) and drops the
-- row when none is left. Entries a backfill wrote, postponed ones and those of a replayed
-- publication still wait by their own `due_at`.
CREATE TABLE fan_out_notifications (
    item_id      text NOT NULL,
    digest       text NOT NULL CHECK (digest IN ('immediate', 'daily', 'weekly')),
    due_at       timestamptz NOT NULL,
    sent_through text NOT NULL DEFAULT '',
    PRIMARY KEY (item_id, digest)
);
CREATE INDEX fan_out_notifications_due ON fan_out_notifications (due_at);

-- What waits to be told, for operators and tests (reading only), both kinds.
CREATE OR REPLACE VIEW waiting_notifications AS
    SELECT advocate_id, item_id, digest, due_at FROM feed WHERE due_at IS NOT NULL
    UNION ALL
    SELECT f.advocate_id, f.item_id, f.digest, n.due_at
    FROM fan_out_notifications n
    JOIN feed f ON f.item_id = n.item_id AND f.advocate_id > n.sent_through AND f.digest = n.digest
    WHERE f.due_at IS NULL;
