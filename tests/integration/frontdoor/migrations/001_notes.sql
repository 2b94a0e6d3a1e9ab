-- The probe API's one table: notes people take about themselves.
CREATE TABLE notes (
    note_id     text PRIMARY KEY,
    advocate_id text NOT NULL,
    text        text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX notes_newest_first ON notes (advocate_id, at DESC, note_id DESC);
