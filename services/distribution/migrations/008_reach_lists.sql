-- What a backfill added to items' reach (ADR 0022), one row per backfill: the items it
-- reached, each once, to be added up by the audience-growth schedule. A row per item
-- (reach_added) was 5,000 inserts for one yes while 5,000 items are active, a sixth of its
-- statement. No person in it. reach_added stays for this release: pods of the version
-- before still log there during a rolling upgrade, and `count_reach` adds up both; a later
-- release drops it.
CREATE TABLE reach_lists (
    items text[] NOT NULL
);
