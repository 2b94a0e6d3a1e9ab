-- Deduplication without a row per event (ADR 0021).
--
-- The relay numbers what it publishes, in the order it sends it: just before sending a batch
-- it gives each row a publication number from one counter (taken under its advisory lock,
-- so the numbers rise in sending order, unlike seq, whose values commit out of order), and
-- sends the number as a header. A row re-sent after a crash keeps its number.
ALTER TABLE outbox ADD COLUMN publication bigint;
CREATE TABLE outbox_publications (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    last     bigint NOT NULL
);
INSERT INTO outbox_publications (last) VALUES (0);

-- A consumer's position per topic, partition and publisher: the highest publication number
-- it applied, written in the same transaction as the effects. A record at or below it is a
-- duplicate (the broker's redelivery or the relay's re-send with a new offset). One row per
-- (consumer, topic, partition, publisher), however many events.
CREATE TABLE consumer_positions (
    consumer    text NOT NULL,
    topic       text NOT NULL,
    partition   integer NOT NULL,
    publisher   text NOT NULL,
    publication bigint NOT NULL,
    PRIMARY KEY (consumer, topic, partition, publisher)
);
CREATE INDEX outbox_publication ON outbox (publication) WHERE publication IS NOT NULL;
