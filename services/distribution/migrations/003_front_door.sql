-- The front door (/api/me/feed, /api/me/shares): a person's feed and shares, newest first,
-- read a page at a time by keyset (the last row's sort key), each page an index range.
-- shares_advocate is covered by the new index's first column (erasure finds shares by it).
CREATE INDEX feed_newest_first ON feed (advocate_id, delivered_at, item_id);
CREATE INDEX shares_newest_first ON shares (advocate_id, created_at, share_id);
DROP INDEX shares_advocate;

-- How long each network counts an item's suggested post (text, disclosure, a stand-in
-- tracked link of the real length), computed once when the item is published or updated:
-- X's count (twitter-text) takes milliseconds a post, too slow to repeat for every feed
-- page. {"link": the stand-in counted with, "lengths": {network: length}}; NULL for items
-- stored before this column, whose lengths are counted when read.
ALTER TABLE items ADD COLUMN post_lengths jsonb;
