-- A follower report dated far ahead (a broken clock) kept every later one out until its time
-- (the latest report is the count). Since ADR 0038 one more than a day ahead of the receiver
-- is refused; one stored before counts as of now, so that the next report replaces it.
UPDATE followers SET observed_at = now() WHERE observed_at > now() + interval '1 day';
