-- A directory event dated far ahead (a broken clock) froze what it set until its time: the
-- newer profile wins, a departure or erasure refuses what is older than it. Since ADR 0038 a
-- profile dated more than a day ahead of the receiver is refused, and a departure remembered
-- at most a day ahead; what was stored before is brought to the same rule.
UPDATE people SET as_of = now() WHERE as_of > now() + interval '1 day';
UPDATE departures SET as_of = now() + interval '1 day' WHERE as_of > now() + interval '1 day';
UPDATE erased_people SET as_of = now() + interval '1 day' WHERE as_of > now() + interval '1 day';
