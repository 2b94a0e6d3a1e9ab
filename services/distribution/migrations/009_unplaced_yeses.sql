-- People whose receive_content yes found them not (yet) in the directory (ADR 0033): their
-- join, committing at the same moment, may not have seen the yes either. A join removes its
-- person's row before its backfill; a schedule backfills whoever is in the directory now.
CREATE TABLE unplaced_yeses (
    advocate_id text PRIMARY KEY
);
