-- Metrics: projections it needs, and figures at the grain of one share.
-- Every dimension a report groups by (item, campaign, topic, network, org unit, location,
-- day) is a property of the share, so group figures are sums over shares at report time.

-- Consents that matter here: share_attribution, network_reach, leaderboard.
CREATE TABLE consents (
    advocate_id text NOT NULL,
    purpose     text NOT NULL,
    valid       boolean NOT NULL,
    PRIMARY KEY (advocate_id, purpose)
);

-- A random token per person, so group figures can count distinct contributors without
-- holding their ids; erasure deletes the row and the token is tied to no one (ADR 8).
CREATE TABLE contributors (
    advocate_id text PRIMARY KEY,
    token       uuid NOT NULL DEFAULT gen_random_uuid()
);

CREATE TABLE items (
    item_id     text PRIMARY KEY,
    campaign_id text,
    title       text NOT NULL,
    topics      text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE campaigns (
    campaign_id text PRIMARY KEY,
    name        text NOT NULL,
    starts_on   date NOT NULL,
    ends_on     date NOT NULL
);

-- One row per share, never naming the person: the aggregates that stay.
CREATE TABLE shares (
    share_id        text PRIMARY KEY,
    item_id         text NOT NULL,
    campaign_id     text,
    network         text NOT NULL,
    day             date NOT NULL,          -- UTC day the share was created
    org_unit        text,                   -- the sharer's, when shared
    location        text,
    contributor     uuid NOT NULL,          -- contributors.token
    potential_reach integer NOT NULL DEFAULT 0,  -- followers then, with network_reach consent only
    cancelled       boolean NOT NULL DEFAULT false
);
CREATE INDEX shares_day ON shares (day);
CREATE INDEX shares_campaign ON shares (campaign_id, day);
CREATE INDEX shares_item ON shares (item_id);

-- Whose share it is: only with share_attribution consent; deleted on withdrawal or erasure.
CREATE TABLE attributed_shares (
    share_id    text PRIMARY KEY,
    advocate_id text NOT NULL
);
CREATE INDEX attributed_shares_advocate ON attributed_shares (advocate_id);

-- Latest follower count per network: only with network_reach consent.
CREATE TABLE followers (
    advocate_id text NOT NULL,
    network     text NOT NULL,
    followers   integer NOT NULL,
    observed_at timestamptz NOT NULL,
    PRIMARY KEY (advocate_id, network)
);

-- Clicks per share, day and visitor (visitor hashes rotate daily): the row count is the
-- unique clicks, the sum of `clicks` all clicks.
CREATE TABLE clicks (
    share_id text NOT NULL,
    day      date NOT NULL,
    visitor  text NOT NULL,
    bot      boolean NOT NULL,
    clicks   integer NOT NULL,
    PRIMARY KEY (share_id, day, visitor)
);

-- Cumulative counters per share: the highest reported value of each (GREATEST).
CREATE TABLE engagement (
    share_id    text PRIMARY KEY,
    impressions bigint NOT NULL,
    reactions   bigint NOT NULL,
    comments    bigint NOT NULL,
    reshares    bigint NOT NULL,
    observed_at timestamptz NOT NULL
);

-- Items and campaigns whose figures changed since their last MetricSnapshot.
CREATE TABLE snapshot_due (
    scope text NOT NULL,
    id    text NOT NULL,
    PRIMARY KEY (scope, id)
);
