CREATE TABLE effects (
    event_id text NOT NULL,  -- deliberately not unique: a duplicated effect must be visible
    n        integer NOT NULL,
    at       timestamptz NOT NULL DEFAULT now()
);
