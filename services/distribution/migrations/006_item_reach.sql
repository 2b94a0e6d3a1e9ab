-- How far each item has reached (ADR 0022): feed entries written for it, at publication and
-- by every backfill since (a yes, a join), never decremented; and how many of them partners
-- were last told. Told again only once at least k more arrived, so no told difference is
-- about fewer than k people. A table of its own: backfills add to it, and an item's row
-- (with its content) would otherwise be rewritten for every person who says yes.
CREATE TABLE item_reach (
    item_id   text PRIMARY KEY,
    reached   integer NOT NULL,
    announced integer NOT NULL
);
-- Items distributed before: their feed entries now, all of them taken as told.
INSERT INTO item_reach (item_id, reached, announced)
SELECT item_id, count(*), count(*) FROM feed GROUP BY item_id;
