CREATE TABLE batches (size integer NOT NULL);
