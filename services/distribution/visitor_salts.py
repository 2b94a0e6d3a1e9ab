"""The daily salt of visitor hashes: random, one per UTC day, kept in the `visitor_salts`
table so that every replica of distribution hashes one visitor alike all day, and deleted
once the day is over (migration 004), so that no one can compute a past day's hashes again.

Metrics counts unique visitors per share and day (services/metrics/store.py): a day is the
whole uniqueness window, so a salt is needed for its day and not a moment longer, save a
few minutes for replicas whose clocks run late (`GRACE`).
"""

import secrets
from datetime import date, datetime, timedelta

from services.distribution import links
from services.runtime.unit_of_work import Connection

SALT_BYTES = 32  # as long as SHA-256's output: guessing the salt is no shortcut
# How long after midnight (UTC) yesterday's salt stays: a replica whose clock is behind by
# less than this still finds it, instead of making a second salt for a day that is over.
GRACE = timedelta(minutes=5)
FORGET_SECONDS = 60.0  # how often the schedule looks for salts to delete

_READ = "SELECT salt FROM visitor_salts WHERE day = $1"
_MAKE = "INSERT INTO visitor_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING"
_FORGET = "DELETE FROM visitor_salts WHERE day < $1"


async def salt_of(conn: Connection, day: date) -> bytes:
    """The salt of `day`: the stored one, or a new random one stored first. Replicas racing
    on the first click of a day all get the one stored first (the INSERT of the others does
    nothing, and the next statement sees the row committed). Not in a transaction."""
    salt = await conn.fetchval(_READ, day)
    if salt is None:
        await conn.execute(_MAKE, day, secrets.token_bytes(SALT_BYTES))
        salt = await conn.fetchval(_READ, day)
    return bytes(salt)


async def forget(conn: Connection, now: datetime) -> int:
    """Deletes the salts of days over for longer than GRACE; returns how many."""
    status = await conn.execute(_FORGET, (now - GRACE).date())
    return int(status.split()[-1])


class DailyKeys:
    """The key of today's visitor hashes, per process: derived from the day's salt and
    CLICK_SECRET once a day, so a click costs no extra query. The key of a past day is
    dropped as soon as a click comes on the next or the schedule runs (`forget_before`)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._day: date | None = None
        self._key = b""

    async def key(self, conn: Connection, day: date) -> bytes:
        if day != self._day:
            self._key, self._day = links.day_key(self._secret, await salt_of(conn, day)), day
        return self._key

    def forget_before(self, day: date) -> None:
        if self._day is not None and self._day < day:
            self._key, self._day = b"", None
