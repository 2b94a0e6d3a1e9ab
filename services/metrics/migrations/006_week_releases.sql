-- Group figures of weeks that are over, decided once and kept (ADR 0023): a report over a
-- year reads these rows, not every share and click of the year, and does not decide
-- disclosure (ADR 0020) for 52 weeks per request. A week whose data changed (weeks_due) is
-- released again; until then reports tell it from its release up to `good_until`, and
-- decide it from the raw rows after that.
CREATE TABLE week_releases (
    week        date PRIMARY KEY CHECK (extract(isodow FROM week) = 1),
    k           integer NOT NULL,         -- the k it was decided with: another k decides again
    released_at timestamptz NOT NULL DEFAULT now(),
    good_until  timestamptz NOT NULL      -- released again by then if it changed
);
-- Per week, cell (campaign '*' for all campaigns; shares of no campaign and groups without a
-- key are never shown on their own and are not kept) and network: the sums, and whether the
-- cell may be shown (the same on each of its networks). Click days have network '*'.
CREATE TABLE week_cells (
    week            date NOT NULL REFERENCES week_releases ON DELETE CASCADE,
    campaign        text NOT NULL,
    dimension       text NOT NULL,
    key             text NOT NULL,
    network         text NOT NULL,
    shown           boolean NOT NULL,
    shares          bigint NOT NULL,
    clicks          bigint NOT NULL,
    unique_clicks   bigint NOT NULL,
    impressions     bigint NOT NULL,
    reactions       bigint NOT NULL,
    comments        bigint NOT NULL,
    reshares        bigint NOT NULL,
    potential_reach bigint NOT NULL,
    PRIMARY KEY (week, campaign, dimension, key, network)
);
-- Weeks whose shares or figures changed since they were last released. Counting bumps
-- `marks`; a release removes the row only if `marks` is still what it read, so a change
-- committed while a week was being decided leaves it due.
CREATE TABLE weeks_due (
    week  date PRIMARY KEY,
    marks bigint NOT NULL DEFAULT 1
);
INSERT INTO weeks_due (week) SELECT DISTINCT date_trunc('week', day)::date FROM shares;
