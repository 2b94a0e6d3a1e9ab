-- The salt of visitor hashes (services/distribution/visitor_salts.py): one random row per UTC
-- day, made by the first click of the day on whichever replica, read by every other, and
-- deleted by the `visitor-salts` schedule once the day is over. Salts were HMAC(CLICK_SECRET,
-- day) until now, which anyone holding the key could compute again for any past day (review
-- S4, S9); once a row is gone, nobody can, not even with CLICK_SECRET and the database.
CREATE TABLE visitor_salts (
    day  date PRIMARY KEY,
    salt bytea NOT NULL CHECK (length(salt) = 32)
);
