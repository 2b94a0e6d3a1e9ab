-- Curation's own tables: campaigns, items with their workflow state, feed sources and
-- the feed entries already turned into drafts.

CREATE TABLE campaigns (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    goal       text NOT NULL,
    starts_on  date NOT NULL,
    ends_on    date NOT NULL,
    topics     text[] NOT NULL,
    owner      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- `content` is the item as the contract describes it; the columns beside it are what
-- queries need (due times, campaign, URL for feed de-duplication).
CREATE TABLE items (
    id           text PRIMARY KEY,
    status       text NOT NULL CHECK (status IN
                     ('draft', 'in_review', 'approved', 'scheduled', 'published', 'expired', 'retracted')),
    content      jsonb NOT NULL,
    authors      text[] NOT NULL,
    source_url   text NOT NULL,
    campaign_id  text REFERENCES campaigns (id),
    publish_at   timestamptz,
    expire_at    timestamptz,
    published_at timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX items_due_to_publish ON items (publish_at) WHERE status = 'scheduled';
CREATE INDEX items_due_to_expire ON items (expire_at) WHERE status = 'published';
CREATE INDEX items_source_url ON items (source_url);

CREATE TABLE sources (
    id             text PRIMARY KEY,
    url            text NOT NULL,
    language       text NOT NULL,
    content_type   text NOT NULL,
    topics         text[] NOT NULL,
    last_polled_at timestamptz,
    last_error     text
);

-- One row per feed entry ever turned into a draft: an entry id seen again, or a URL
-- seen in any feed, makes no second draft.
CREATE TABLE feed_entries (
    source_id text NOT NULL REFERENCES sources (id),
    entry_id  text NOT NULL,
    url       text NOT NULL UNIQUE,
    item_id   text NOT NULL REFERENCES items (id),
    PRIMARY KEY (source_id, entry_id)
);
