-- The contracts' instants lie from 1970 to before 2100 (ADR 0037). What was counted before
-- from a time outside that range cannot be read back or released: a share's day in year 1
-- made its week date.min, which asyncpg sends back as -infinity (the week-release job failed
-- at every pass); a day in year 10000 is beyond Python's dates; an observation or follower
-- report in year 10000 kept every later one out (the latest report wins). Such shares go with
-- what was counted of them, such weeks stop being due, and such reports count as the oldest,
-- so that the next one replaces them.
DELETE FROM clicks WHERE NOT (day >= date '1970-01-01' AND day < date '2100-01-01') OR share_id IN
    (SELECT share_id FROM shares WHERE NOT (day >= date '1970-01-01' AND day < date '2100-01-01'));
DELETE FROM engagement WHERE share_id IN
    (SELECT share_id FROM shares WHERE NOT (day >= date '1970-01-01' AND day < date '2100-01-01'));
DELETE FROM attributed_shares WHERE share_id IN
    (SELECT share_id FROM shares WHERE NOT (day >= date '1970-01-01' AND day < date '2100-01-01'));
DELETE FROM shares WHERE NOT (day >= date '1970-01-01' AND day < date '2100-01-01');
DELETE FROM weeks_due WHERE NOT (week >= date '1970-01-01' AND week < date '2100-01-01');
DELETE FROM week_releases WHERE NOT (week >= date '1970-01-01' AND week < date '2100-01-01');
UPDATE engagement SET observed_at = timestamptz '1970-01-01 00:00:00+00'
    WHERE observed_at >= timestamptz '2100-01-01 00:00:00+00';
UPDATE followers SET observed_at = timestamptz '1970-01-01 00:00:00+00'
    WHERE observed_at >= timestamptz '2100-01-01 00:00:00+00';
