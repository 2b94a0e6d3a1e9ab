-- Visitor hashes are needed only while a day's clicks are counted as unique (services/metrics/
-- store.py, forget_visitors): then each is replaced by a random id that links to nothing, and
-- the row still counts one unique visitor. This index finds the rows still holding a hash.
CREATE INDEX clicks_hashed_by_day ON clicks (day) WHERE visitor NOT LIKE '#%';
