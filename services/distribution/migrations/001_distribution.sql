-- Distribution's own tables. `people` (the directory) comes from the runtime.

-- Consent as the consent service announced it, per advocate and purpose.
CREATE TABLE consents (
    advocate_id text NOT NULL,
    purpose     text NOT NULL,
    valid       boolean NOT NULL,
    PRIMARY KEY (advocate_id, purpose)
);

-- Items as curation published them; `content` is curation's ItemContent.
CREATE TABLE items (
    item_id     text PRIMARY KEY,
    status      text NOT NULL CHECK (status IN ('active', 'retracted', 'expired')),
    campaign_id text,
    content     jsonb NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE feed (
    advocate_id  text NOT NULL,
    item_id      text NOT NULL,
    delivered_at timestamptz NOT NULL,
    PRIMARY KEY (advocate_id, item_id)
);
CREATE INDEX feed_item ON feed (item_id);

-- Notifications waiting for their time: now (immediate), or the next digest.
CREATE TABLE pending_notifications (
    advocate_id text NOT NULL,
    item_id     text NOT NULL,
    digest      text NOT NULL,
    due_at      timestamptz NOT NULL,
    PRIMARY KEY (advocate_id, item_id)
);
CREATE INDEX pending_notifications_due ON pending_notifications (due_at);

-- Immediate notifications sent per advocate and day, for the daily cap.
CREATE TABLE notifications_sent (
    advocate_id text NOT NULL,
    day         date NOT NULL,
    immediate   integer NOT NULL,
    PRIMARY KEY (advocate_id, day)
);

CREATE TABLE shares (
    share_id     text PRIMARY KEY,
    code         text NOT NULL UNIQUE,
    advocate_id  text,  -- NULL once the advocate is erased: the link keeps working, unattributed
    item_id      text NOT NULL,
    campaign_id  text,
    network      text NOT NULL,
    post         text,
    status       text NOT NULL CHECK (status IN ('created', 'scheduled', 'publish_requested',
                                                 'published', 'failed', 'cancelled')),
    scheduled_at timestamptz,
    created_at   timestamptz NOT NULL
);
CREATE INDEX shares_due ON shares (scheduled_at) WHERE status = 'scheduled';
CREATE INDEX shares_advocate ON shares (advocate_id);
CREATE INDEX shares_item ON shares (item_id);
