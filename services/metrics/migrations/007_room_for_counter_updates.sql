-- Counters are updated in place many times (a visitor's clicks of the day, a connector's
-- engagement reports): with room left in each page, Postgres writes the new row version
-- beside the old one (a HOT update) and touches no index, which is most of an update's
-- cost and WAL. Applies to pages written from now on.
ALTER TABLE clicks SET (fillfactor = 85);
ALTER TABLE engagement SET (fillfactor = 85);
