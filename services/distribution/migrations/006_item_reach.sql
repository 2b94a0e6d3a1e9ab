-- How far each item has reached (ADR 0022): feed entries written for it, at publication and
-- by every backfill since (a yes, a join), never decremented; and how many of them partners
-- were last told. Told again only once at least k more arrived, so no told difference is
-- about fewer than k people.
CREATE TABLE item_reach (
    item_id   text PRIMARY KEY,
    reached   integer NOT NULL,
    announced integer NOT NULL
);
-- Items distributed before: their feed entries now, all of them taken as told.
INSERT INTO item_reach (item_id, reached, announced)
SELECT item_id, count(*), count(*) FROM feed GROUP BY item_id;

-- What backfills added, per item, until the audience-growth schedule adds it up: an
-- insert-only log without an index, so a person's yes with thousands of active items
-- updates no item's row, and concurrent backfills never wait on one another. No person in it.
CREATE TABLE reach_added (
    item_id text NOT NULL,
    added   integer NOT NULL
);

-- An item's audience and language as columns, kept by Postgres from its content: a backfill
-- matches a person against every active item, and taking thousands of items' arrays apart
-- from JSON on each yes was a tenth of its time.
CREATE FUNCTION text_array(value jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT coalesce(ARRAY(SELECT jsonb_array_elements_text(value)), '{}') $$;
ALTER TABLE items
    ADD COLUMN audience_roles     text[] GENERATED ALWAYS AS (coalesce(text_array(content->'audience'->'roles'), '{}')) STORED,
    ADD COLUMN audience_org_units text[] GENERATED ALWAYS AS (coalesce(text_array(content->'audience'->'org_units'), '{}')) STORED,
    ADD COLUMN audience_locations text[] GENERATED ALWAYS AS (coalesce(text_array(content->'audience'->'locations'), '{}')) STORED,
    ADD COLUMN audience_languages text[] GENERATED ALWAYS AS (coalesce(text_array(content->'audience'->'languages'), '{}')) STORED,
    ADD COLUMN audience_interests text[] GENERATED ALWAYS AS (coalesce(text_array(content->'audience'->'topics'), '{}')) STORED,
    ADD COLUMN item_language      text   GENERATED ALWAYS AS (content->>'language') STORED,
    ADD COLUMN item_topics        text[] GENERATED ALWAYS AS (coalesce(text_array(content->'topics'), '{}')) STORED;
