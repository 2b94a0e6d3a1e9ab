"""Metrics' writes (asyncpg): one set-based statement per table per batch, never one per event.

Statements that depend on consent lock the consent rows they read (FOR SHARE), while a
withdrawal updates its row: a batch racing a withdrawal either commits first (and the
withdrawal then deletes what it attributed) or waits and sees the consent gone.
"""

from collections import OrderedDict
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from services.metrics.domain import Tally, Tallying
from services.metrics.queries import RELEASE_COLUMNS
from services.runtime.packed import pack, pack_rows, unpacked, unpacked_all
from services.runtime.unit_of_work import Connection, insert_rows

ATTRIBUTION, REACH, LEADERBOARD = "share_attribution", "network_reach", "leaderboard"
PURPOSES = {ATTRIBUTION, REACH, LEADERBOARD}

# A token that stays the person's only with share_attribution (ADR 0019): others' shares get
# one per person and week (the weeks disclosure control counts people in, ADR 0020), from the
# week's salt, linkable to nobody once the salt is gone.
_ADD_CONTRIBUTORS = f"""INSERT INTO contributors (advocate_id)
SELECT advocate_id FROM consents
WHERE advocate_id = ANY({unpacked("$1", "text")}) AND purpose = 'share_attribution' AND valid
FOR SHARE ON CONFLICT DO NOTHING"""
_ADD_SALTS = f"""INSERT INTO contributor_salts (week)
SELECT DISTINCT date_trunc('week', d)::date FROM unnest({unpacked("$1", "date")}) d ON CONFLICT DO NOTHING"""
_ADD_SHARES = f"""
INSERT INTO shares (share_id, item_id, campaign_id, network, day, org_unit, location, contributor, potential_reach)
SELECT s.share_id, s.item_id, s.campaign_id, s.network, s.day, p.org_unit, p.location,
       coalesce(c.token, substr(encode(sha256(convert_to(d.salt::text || s.advocate_id, 'UTF8')), 'hex'), 1, 32)::uuid),
       coalesce(f.followers, 0)
FROM unnest({unpacked_all("text", "text", "text", "text", "text", "date")})
     AS s(share_id, advocate_id, item_id, campaign_id, network, day)
JOIN contributor_salts d ON d.week = date_trunc('week', s.day)::date
LEFT JOIN contributors c USING (advocate_id)
LEFT JOIN people p USING (advocate_id)
LEFT JOIN followers f ON f.advocate_id = s.advocate_id AND f.network = s.network  -- kept only with consent
ON CONFLICT (share_id) DO NOTHING
RETURNING share_id, item_id, campaign_id, date_trunc('week', day)::date AS week"""
_ATTRIBUTE = f"""
INSERT INTO attributed_shares (share_id, advocate_id)
SELECT s.share_id, s.advocate_id FROM unnest({unpacked_all("text", "text")}) AS s(share_id, advocate_id)
JOIN consents c ON c.advocate_id = s.advocate_id AND c.purpose = 'share_attribution' AND c.valid
FOR SHARE OF c
ON CONFLICT DO NOTHING"""
_CANCEL = f"UPDATE shares SET cancelled = true WHERE share_id = ANY({unpacked('$1', 'text')})"
_CLICKS = f"""
INSERT INTO clicks (share_id, day, visitor, bot, clicks, machine_requests)
SELECT * FROM unnest({unpacked_all("text", "date", "text", "bool", "int", "int")})
ON CONFLICT (share_id, day, visitor) DO UPDATE SET clicks = clicks.clicks + EXCLUDED.clicks,
    machine_requests = clicks.machine_requests + EXCLUDED.machine_requests, bot = clicks.bot AND EXCLUDED.bot"""
_ENGAGEMENT = f"""
INSERT INTO engagement (share_id, impressions, reactions, comments, reshares, observed_at)
SELECT * FROM unnest({unpacked_all("text", "bigint", "bigint", "bigint", "bigint", "timestamptz")})
ON CONFLICT (share_id) DO UPDATE SET
    impressions = GREATEST(engagement.impressions, EXCLUDED.impressions),
    reactions = GREATEST(engagement.reactions, EXCLUDED.reactions),
    comments = GREATEST(engagement.comments, EXCLUDED.comments),
    reshares = GREATEST(engagement.reshares, EXCLUDED.reshares),
    observed_at = GREATEST(engagement.observed_at, EXCLUDED.observed_at)"""
_FOLLOWERS = f"""
INSERT INTO followers (advocate_id, network, followers, observed_at)
SELECT f.* FROM unnest({unpacked_all("text", "text", "int", "timestamptz")})
              AS f(advocate_id, network, followers, observed_at)
JOIN consents c ON c.advocate_id = f.advocate_id AND c.purpose = 'network_reach' AND c.valid
FOR SHARE OF c
ON CONFLICT (advocate_id, network) DO UPDATE SET followers = EXCLUDED.followers, observed_at = EXCLUDED.observed_at
WHERE followers.observed_at < EXCLUDED.observed_at"""
# Weeks are marked in the order of their Mondays: concurrent batches lock them in one order.
_MARK_WEEKS_DUE = """INSERT INTO weeks_due (week) {weeks} ORDER BY 1
ON CONFLICT (week) DO UPDATE SET marks = weeks_due.marks + 1"""
_MARK_DUE = f"""
WITH weeks AS ({_MARK_WEEKS_DUE.format(weeks=f"SELECT unnest({unpacked('$3', 'date')})")})
INSERT INTO snapshot_due (scope, id)
SELECT 'item', unnest({unpacked("$1", "text")}) UNION ALL SELECT 'campaign', unnest({unpacked("$2", "text")})
ON CONFLICT DO NOTHING"""
_SHARE_WEEKS = f"""SELECT share_id, item_id, campaign_id, date_trunc('week', day)::date AS week
FROM unnest({unpacked("$1", "text")}) AS t(share_id) JOIN shares USING (share_id)"""


class ShareWeeks:
    """What marking a share's figures due needs of it, (item_id, campaign_id, week), for the
    last `size` shares stored or looked up: it never changes once a share is stored, and
    looking thousands of shares up again for every batch of clicks and counters was a fifth
    of ingestion's database time. Kept in this process only; a share it does not hold is
    looked up."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._known: OrderedDict[str, tuple[str, str | None, date]] = OrderedDict()
        self._same: dict[object, Any] = {}  # one object per item, campaign and week, not one per share

    def learn(self, rows: Sequence[Any]) -> set[tuple[str, str | None, date]]:
        """Rows of `share_id, item_id, campaign_id, week`; returns their (item_id, campaign_id,
        week), which the oldest shares held may make room for."""
        same, known = self._same, self._known
        learnt = set()
        for share_id, item_id, campaign_id, week in rows:
            known[share_id] = due = (same.setdefault(item_id, item_id), same.setdefault(campaign_id, campaign_id),
                                     same.setdefault(week, week))
            learnt.add(due)
        while len(known) > self.size:
            known.popitem(last=False)
        if len(same) > self.size:  # items and campaigns of long ago
            self._same = {}
        return learnt

    def of(self, share_ids: Collection[str]) -> tuple[set[tuple[str, str | None, date]], list[str]]:
        """The (item_id, campaign_id, week) of the shares it knows, and the shares it does not."""
        due: set[Any] = set(map(self._known.get, share_ids))  # a lookup per share, in C
        if None not in due:
            return due, []
        due.discard(None)
        return due, [s for s in share_ids if s not in self._known]


class Counted:
    """A batch's `Tally` with the rows of each counting statement packed as its parameters
    (`pack_rows`, one text parameter a column: services/runtime/packed.py), an empty list
    where there are none. Made while the batch is decoded, before its transaction (ADR 0026),
    so that the transaction's statements only send them: packing a batch of 5,000 events'
    rows took 5–10 ms of the one event loop, which the transaction in flight waited for
    (twice that for batches of 10,000, in one block at the batch's end: `CountedBatch.done`)."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.shares = pack_rows(tally.shares)  # NewShare rows
        self.clicks = pack_rows(tally.clicks)  # Clicks rows
        self.observations = pack_rows(tally.observations)  # Observation rows
        self.followers = pack_rows(tally.followers)  # FollowerCount rows


class Counting:
    """A `domain.Tallying` whose result comes packed (`Counted`): what the pipelined consumer
    prepares of a batch as it decodes it (services/runtime/counted_batch.py)."""

    def __init__(self) -> None:
        self._tallying = Tallying()
        self.add = self._tallying.add

    def result(self) -> Counted:
        return Counted(self._tallying.result())


async def add_shares(conn: Connection, columns: Sequence[str], weeks: ShareWeeks) -> None:
    """New shares (`columns`: `NewShare` rows, packed), under their contributor's token, with
    org unit, location and (only with `network_reach`) the follower count of the moment;
    attributed to their advocate only with `share_attribution`, and only then is the
    person's token kept (`contributors`); others' shares carry a token of the person and
    day. A share seen before changes nothing. `weeks` learns the shares stored."""
    if not columns:
        return
    await conn.execute(_ADD_CONTRIBUTORS, columns[1])
    await conn.execute(_ADD_SALTS, columns[5])
    weeks.learn(await conn.fetch(_ADD_SHARES, *columns))
    await conn.execute(_ATTRIBUTE, columns[0], columns[1])


async def cancel_shares(conn: Connection, share_ids: Sequence[str]) -> None:
    if share_ids:
        await conn.execute(_CANCEL, pack(share_ids))


async def add_clicks(conn: Connection, columns: Sequence[str]) -> None:
    """`columns`: `Clicks` rows, packed. At most one row per (share_id, day, visitor); its
    clicks and machine requests added to what is counted, and a person's click makes it no
    machine's (`bot` false)."""
    if columns:
        await conn.execute(_CLICKS, *columns)


# Hashes of days before $1 become '#' and a random UUID (never a hash, which is hex), a
# batch at a time; the row keeps counting one visitor.
_FORGET_VISITORS = """
UPDATE clicks SET visitor = '#' || gen_random_uuid() WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM clicks WHERE day < $1 AND visitor NOT LIKE '#%' LIMIT $2 FOR UPDATE SKIP LOCKED))"""


async def forget_visitors(conn: Connection, before: date, limit: int) -> int:
    """Replaces the visitor hashes of days before `before` by random ids, up to `limit` rows;
    returns how many. Unique clicks stay as counted (one row, one visitor); a click of such a
    day that comes later still counts, as a visitor not seen before."""
    status = await conn.execute(_FORGET_VISITORS, before, limit)
    return int(status.split()[-1])


async def keep_highest_engagement(conn: Connection, columns: Sequence[str]) -> None:
    """`columns`: `Observation` rows, packed. At most one row per share; each counter keeps
    the highest value seen."""
    if columns:
        await conn.execute(_ENGAGEMENT, *columns)


async def set_followers(conn: Connection, columns: Sequence[str]) -> None:
    """`columns`: `FollowerCount` rows, packed. At most one row per (advocate, network); kept
    only with `network_reach`, the latest wins."""
    if columns:
        await conn.execute(_FOLLOWERS, *columns)


async def mark_due(conn: Connection, share_ids: Collection[str], weeks: ShareWeeks) -> None:
    """The items and campaigns of these shares get a new snapshot on the next pass, and
    their weeks a new release (weeks_due). Shares `weeks` does not know are looked up (and
    learnt); a share that is not stored marks nothing (unless `weeks` learnt it from a
    transaction then undone: a snapshot or release made once more than needed). Sorted, so
    that concurrent batches lock rows in one order."""
    if not share_ids:
        return
    due, unknown = weeks.of(share_ids)  # before learning what is unknown may make room by forgetting some
    if unknown:
        due |= weeks.learn(await conn.fetch(_SHARE_WEEKS, pack(unknown)))
    if due:
        await conn.execute(_MARK_DUE, pack(sorted({item for item, _, _ in due})),
                           pack(sorted({campaign for _, campaign, _ in due if campaign is not None})),
                           pack(sorted({week for _, _, week in due})))


_MARK_DUE_DAYS = """
WITH s AS (SELECT DISTINCT item_id, campaign_id FROM shares WHERE day BETWEEN $1 AND $2)
INSERT INTO snapshot_due (scope, id)
SELECT 'item', item_id FROM s
UNION SELECT 'campaign', campaign_id FROM s WHERE campaign_id IS NOT NULL
ON CONFLICT DO NOTHING"""


async def mark_due_days(conn: Connection, first: date, last: date) -> None:
    """The items and campaigns with shares created from `first` to `last` get a new snapshot
    on the next pass (a week that ends adds its figures to theirs)."""
    await conn.execute(_MARK_DUE_DAYS, first, last)


_CLAIM_DUE_SNAPSHOTS = """DELETE FROM snapshot_due WHERE (scope, id) IN (
    SELECT scope, id FROM snapshot_due ORDER BY scope, id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING scope, id"""


async def claim_due_snapshots(conn: Connection, limit: int) -> list[tuple[str, str]]:
    """Up to `limit` (scope, id) marks, removed as they are claimed (SKIP LOCKED)."""
    return [(r["scope"], r["id"]) for r in await conn.fetch(_CLAIM_DUE_SNAPSHOTS, limit)]


async def set_consent(conn: Connection, advocate_id: str, purpose: str, valid: bool, sequence: int | None) -> bool:
    """A consent no longer valid takes its personal figures with it; the aggregates stay.
    Only a change later in the consent service's order (a higher `sequence`, ADR 0019)
    applies; a record from before sequences (None) applies only where no sequenced one was;
    returns whether it did."""
    applied = await conn.fetchval(
        """INSERT INTO consents (advocate_id, purpose, valid, sequence) VALUES ($1, $2, $3, $4)
           ON CONFLICT (advocate_id, purpose) DO UPDATE SET valid = EXCLUDED.valid, sequence = EXCLUDED.sequence
           WHERE consents.sequence < EXCLUDED.sequence OR (EXCLUDED.sequence = 0 AND consents.sequence = 0)
           RETURNING true""", advocate_id, purpose, valid, sequence or 0) is not None
    if applied and not valid and purpose == ATTRIBUTION:
        await conn.execute("DELETE FROM attributed_shares WHERE advocate_id = $1", advocate_id)
        await conn.execute("DELETE FROM contributors WHERE advocate_id = $1", advocate_id)
    if applied and not valid and purpose == REACH:
        await conn.execute("DELETE FROM followers WHERE advocate_id = $1", advocate_id)
    return applied


_ERASED_REF = ("encode(sha256(convert_to((SELECT salt FROM erasure_salt) || ':' || $1::text, 'UTF8')), 'hex')")


async def erase(conn: Connection, advocate_id: str) -> None:
    """No row keeps the id (the directory entry went by `directory.forget`, which the handler
    calls before this); shares stay under a contributor token that now points to no one; the
    erasure is remembered by a salted hash of the id (`erased`), not the id: nothing about
    the person is kept here again, whatever arrives later."""
    for table in ("consents", "attributed_shares", "followers", "contributors"):
        await conn.execute(f"DELETE FROM {table} WHERE advocate_id = $1", advocate_id)
    await conn.execute(f"INSERT INTO erased (ref) VALUES ({_ERASED_REF}) ON CONFLICT DO NOTHING", advocate_id)


async def erased(conn: Connection, advocate_id: str) -> bool:
    """Whether the person was erased here: then nothing about them is kept again."""
    return bool(await conn.fetchval(f"SELECT true FROM erased WHERE ref = {_ERASED_REF}", advocate_id))


async def forget_contributor_salts(conn: Connection, over_by: date) -> int:
    """Salts of contributor tokens of weeks that ended by `over_by` (their Sunday before it):
    their shares link to nobody now."""
    status = await conn.execute("DELETE FROM contributor_salts WHERE week + 7 <= $1", over_by)
    return int(status.split()[-1])


async def save_item(conn: Connection, item_id: str, campaign_id: str | None, title: str,
                    topics: list[str]) -> None:
    """The item as published or updated. If it is new or its topics changed, the weeks with
    its shares are released again: its topics are groups of theirs."""
    if await conn.fetchval("SELECT topics = $2::text[] FROM items WHERE item_id = $1", item_id, topics) is not True:
        await conn.execute(_MARK_WEEKS_DUE.format(
            weeks="SELECT DISTINCT date_trunc('week', day)::date FROM shares WHERE item_id = $1"), item_id)
    await conn.execute(
        """INSERT INTO items (item_id, campaign_id, title, topics) VALUES ($1, $2, $3, $4)
           ON CONFLICT (item_id) DO UPDATE SET campaign_id = EXCLUDED.campaign_id, title = EXCLUDED.title,
               topics = EXCLUDED.topics""", item_id, campaign_id, title, topics)


async def save_campaign(conn: Connection, campaign_id: str, name: str, starts_on: date, ends_on: date) -> None:
    await conn.execute(
        """INSERT INTO campaigns (campaign_id, name, starts_on, ends_on) VALUES ($1, $2, $3, $4)
           ON CONFLICT (campaign_id) DO UPDATE SET name = EXCLUDED.name, starts_on = EXCLUDED.starts_on,
               ends_on = EXCLUDED.ends_on""", campaign_id, name, starts_on, ends_on)


# --- week releases (ADR 0023) ------------------------------------------------------------

# Advisory locks of week releases: (this class, the week's day number), so two replicas do
# not decide the same week at once; no row is locked while a week is decided.
_RELEASE_LOCKS = 0x6D657472  # "metr"


_DUE_WEEKS = """
SELECT d.week, d.marks FROM weeks_due d LEFT JOIN week_releases r USING (week)
WHERE d.week <= $1 AND (r.week IS NULL OR r.k <> $3 OR r.released_at <= now() - make_interval(secs => $2))
UNION ALL  -- released with another k, unchanged since: nothing to clear
SELECT r.week, NULL FROM week_releases r
WHERE r.week <= $1 AND r.k <> $3 AND NOT EXISTS (SELECT 1 FROM weeks_due d WHERE d.week = r.week)
ORDER BY 1 DESC LIMIT 16"""


async def claim_due_week(conn: Connection, last_monday: date, k: int, rest_seconds: float
                         ) -> tuple[date, int | None] | None:
    """A week up to the one starting `last_monday` to release: never released, released
    with another k, or changed since its release more than `rest_seconds` ago; the latest
    first. Returns it with its `marks` (None if it is not marked due), read once the week is
    locked for this transaction (advisory, so no row is locked while it is decided; another
    process skips it); None if there is none free. Writes nothing."""
    for row in await conn.fetch(_DUE_WEEKS, last_monday, rest_seconds, k):
        if await conn.fetchval("SELECT pg_try_advisory_xact_lock($1, $2 - date '2000-01-03')",
                               _RELEASE_LOCKS, row["week"]):
            if row["marks"] is None:
                return row["week"], None
            # Read again under the lock: another process may have released it meanwhile.
            marks = await conn.fetchval("SELECT marks FROM weeks_due WHERE week = $1", row["week"])
            if marks is not None:
                return row["week"], marks
    return None


async def save_release(conn: Connection, week: date, k: int, marks: int | None, rows: list[tuple[object, ...]],
                       good_for_seconds: float) -> None:
    """The week's cells (RELEASE_COLUMNS) replace those it had; it stays due if counting
    marked it again since `marks` was read (the release may have missed that change).
    Reports may tell the week from this release for `good_for_seconds` after a change."""
    await conn.execute("""INSERT INTO week_releases (week, k, good_until)
                          VALUES ($1, $2, now() + make_interval(secs => $3))
                          ON CONFLICT (week) DO UPDATE SET k = EXCLUDED.k, released_at = now(),
                              good_until = EXCLUDED.good_until""", week, k, good_for_seconds)
    await conn.execute("DELETE FROM week_cells WHERE week = $1", week)
    await insert_rows(conn, "week_cells", RELEASE_COLUMNS, rows)
    if marks is not None:
        await conn.execute("DELETE FROM weeks_due WHERE week = $1 AND marks = $2", week, marks)
