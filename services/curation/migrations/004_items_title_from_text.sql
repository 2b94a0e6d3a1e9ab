-- A draft from a feed entry that had no title got one made from its text: marked, so that an
-- editor sees it should be written (the mark goes with the first edit of the title).
ALTER TABLE items ADD COLUMN title_from_text boolean NOT NULL DEFAULT false;
