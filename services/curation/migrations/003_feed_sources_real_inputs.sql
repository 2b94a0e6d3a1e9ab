-- Feed sources can be paused and removed (a removed one is kept as a tombstone: its id is
-- not reused, and its entries still count for de-duplication); a fetch is conditional on
-- the validators of the last one (ETag, Last-Modified).
ALTER TABLE sources
    ADD COLUMN status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'removed')),
    ADD COLUMN etag          text,
    ADD COLUMN last_modified text;

-- A refused entry is recorded once, not at every poll: an entry whose (source, id) is
-- here is not reported again while it stays as it was refused.
CREATE TABLE feed_refusals (
    source_id  text NOT NULL REFERENCES sources (id),
    entry_id   text NOT NULL,
    reason     text NOT NULL,
    refused_at timestamptz NOT NULL,
    PRIMARY KEY (source_id, entry_id)
);
