-- Duplicates are detected per topic (review S6): an event's id is unique only on the topic it
-- came from, and one consumer reads several topics with different writers. Keyed by
-- (consumer, event_id) alone, a writer of one topic (HR's directory, a connector's
-- engagement) could send a message carrying the id of a consent withdrawal or erasure seen
-- on consent's events, and the withdrawal was then skipped as already handled.
-- Rows from before carry no topic (''): they still count as handled on any topic until the
-- inbox's retention prunes them; new rows always name their topic. The HTTP API's
-- Idempotency-Keys have no topic either (''), under a consumer of their own.
ALTER TABLE inbox ADD COLUMN topic text NOT NULL DEFAULT '';
ALTER TABLE inbox DROP CONSTRAINT inbox_pkey;
ALTER TABLE inbox ADD PRIMARY KEY (consumer, topic, event_id);
