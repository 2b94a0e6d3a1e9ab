-- The directory projection every service keeps (see services/runtime/directory.py).
CREATE TABLE people (
    advocate_id text PRIMARY KEY,
    role        text NOT NULL,
    org_unit    text,
    location    text,
    languages   text[] NOT NULL DEFAULT '{}',
    interests   text[] NOT NULL DEFAULT '{}',
    digest      text NOT NULL,
    networks    text[] NOT NULL DEFAULT '{}',
    as_of       timestamptz NOT NULL
);
