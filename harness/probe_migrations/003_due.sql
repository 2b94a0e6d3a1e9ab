CREATE TABLE due (id integer PRIMARY KEY, due_at timestamptz NOT NULL, done boolean NOT NULL DEFAULT false);
