"""Distribution's SQL for projections, audiences, feeds and notifications (asyncpg).
Shares and tracked links are in share_store.py.

Fan-out is one statement: feed entries for the whole audience are written set-based, never
one insert per person; each entry carries its notification until it is sent (`digest`,
`due_at`: ADR 0025; a new item's entries wait by the item, `fan_out_notifications`: ADR
0044), so a withdrawal or retraction that deletes the entry takes the waiting notification
with it.

What changes an audience and what fans out to it are kept apart by one lock, the audience
lock (`hold_audience`, ADR 0033, 0039): exclusive for a fan-out and an item's end, shared
for every change of who is reached, growing (the join of someone new, a profile changing
reach, a first yes) or shrinking (a withdrawal, an erasure), each taken in a statement before
the one that must see the other's rows. A fan-out therefore locks no consent row: a
withdrawal either committed before it began (and the person is not in the audience) or waits
for it and then removes what it delivered. Between changes of one person (a yes's backfill
and their withdrawal or erasure), the consent row decides: backfills read it FOR SHARE, a
change locks it for update. A person's join and yes do not wait for each other: a yes that
finds nobody in the directory leaves a row (`unplaced_yeses`) that the join deletes, or a
schedule backfills once they are there.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from schemas.directory import Digest, Profile
from services.distribution.domain import DueNotification, ItemView
from services.runtime import directory
from services.runtime.unit_of_work import Connection

# Who an item reaches: people with a valid `receive_content` whom its audience names (an
# empty list names everybody) and who read its language and share an interest, if they
# named any; `i` is an item with its audience as columns, `p` a person of the directory.
_REACHES = """(cardinality(i.roles) = 0 OR p.role = ANY(i.roles))
      AND (cardinality(i.org_units) = 0 OR p.org_unit = ANY(i.org_units))
      AND (cardinality(i.locations) = 0 OR p.location = ANY(i.locations))
      AND (cardinality(i.languages) = 0 OR p.languages && i.languages)
      AND (cardinality(i.interests) = 0 OR p.interests && i.interests)
      AND (cardinality(p.languages) = 0 OR i.language = ANY(p.languages))
      AND (cardinality(p.interests) = 0 OR cardinality(i.topics) = 0 OR p.interests && i.topics)"""
# A feed entry of item `i` for person `p`, waiting to be notified by the person's digest:
# now, at the next daily or weekly digest, or not at all (off: NULL). `{due}`: the entry's own
# time, or NULL where its item's row of `fan_out_notifications` says when (ADR 0044).
_ENTRY = """INSERT INTO feed (advocate_id, item_id, delivered_at, digest, due_at)
    SELECT p.advocate_id, i.item_id, $1, nullif(p.digest, 'off'), {due}"""
_DUE_BY_DIGEST = """CASE p.digest WHEN 'immediate' THEN $1::timestamptz WHEN 'daily' THEN i.daily_at
                         WHEN 'weekly' THEN i.weekly_at END"""
_CONSENTING = "JOIN consents c ON c.advocate_id = p.advocate_id AND c.purpose = 'receive_content' AND c.valid"

# One item to its whole audience, under the audience lock held exclusive: no change of who
# is reached commits meanwhile, so the consent rows are read without a lock (ADR 0039:
# locking each was 11-27 % of the statement). An item new here has no entry yet (the
# backfills of concurrent yeses do not see it before it commits): plain inserts, no
# speculative insertion per person (ADR 0025: about a fifth of a fan-out's time), and the
# notifications wait by the item (ADR 0044: no `feed_due` entry each). Again (a replayed
# publication): what is there stays as it is, and what is added waits by its own time (the
# item's rows may have been walked past these people already). The entries are written in
# the order of the people's ids, the order of both of the feed's indexes (ADR 0048): people
# join in no order of their pseudonymous ids, and in the order of the table each entry
# went to another page of each index.
_FAN_OUT = f"""
WITH item AS (SELECT $4::text AS item_id, $5::text[] AS roles,
    $6::text[] AS org_units, $7::text[] AS locations, $8::text[] AS languages,
    $9::text[] AS interests, $10::text AS language, $11::text[] AS topics,
    $2::timestamptz AS daily_at, $3::timestamptz AS weekly_at)
{_ENTRY}
FROM item i JOIN people p ON {_REACHES}
{_CONSENTING}
ORDER BY p.advocate_id
{{conflict}}"""
_FAN_OUT_NEW = _FAN_OUT.format(due="NULL", conflict="")
_FAN_OUT_AGAIN = _FAN_OUT.format(due=_DUE_BY_DIGEST, conflict="ON CONFLICT DO NOTHING")
# When a new item's entries are to be notified, one row per digest (ADR 0044); a digest
# nobody in the audience has is dropped by the notifier's first look.
_FAN_OUT_NOTIFICATIONS = """INSERT INTO fan_out_notifications (item_id, digest, due_at)
    VALUES ($1, 'immediate', $2), ($1, 'daily', $3), ($1, 'weekly', $4)
    ON CONFLICT (item_id, digest) DO UPDATE SET due_at = EXCLUDED.due_at, sent_through = ''"""
# Every active item to one person: what is there when they say yes. The person and their
# consent are read (and it locked FOR SHARE) once, before the items. How far each item
# reached grows by one: logged, to be added up by the audience-growth schedule
# (`count_reach`), so concurrent backfills never wait on the same items' rows. `{locks}`:
# after a yes, the person's profile too, unless a change of it is in flight (see below).
_PERSON_AND_ITEMS = f"""
WITH person AS MATERIALIZED (
    SELECT p.advocate_id, p.role, p.org_unit, p.location, p.languages, p.interests, p.digest
    FROM people p {_CONSENTING}
    WHERE p.advocate_id = $4
    {{locks}}
), item AS (
    SELECT item_id, audience_roles AS roles, audience_org_units AS org_units,
           audience_locations AS locations, audience_languages AS languages,
           audience_interests AS interests, item_language AS language, item_topics AS topics, updated_at
    FROM items WHERE status = 'active'
)"""
# One row for the backfill, none when it reached nothing (migration 008).
# The entries of the items that reach the person (`gate`: a condition on the whole backfill).
# With an immediate digest, at most the daily cap ($5) of them wait to be notified now, the
# newest items first; the rest wait for the next daily digest, as the notifier would have
# postponed them one by one (5,000 updates a yes, twice each: claimed, then postponed). The
# notifier still counts what was sent today, so the cap holds as before.
def _backfill_entries(gate: str = "") -> str:
    return f"""INSERT INTO feed (advocate_id, item_id, delivered_at, digest, due_at)
    SELECT advocate_id, item_id, $1,
           CASE WHEN digest = 'immediate' AND rank > $5 THEN 'daily' ELSE nullif(digest, 'off') END,
           CASE digest WHEN 'immediate' THEN CASE WHEN rank > $5 THEN $2::timestamptz ELSE $1::timestamptz END
                       WHEN 'daily' THEN $2::timestamptz WHEN 'weekly' THEN $3::timestamptz END
    FROM (SELECT p.advocate_id, i.item_id, p.digest,
                 row_number() OVER (ORDER BY i.updated_at DESC, i.item_id) AS rank
          FROM person p JOIN item i ON {_REACHES}
          {gate}) reaching"""


_REACH_LOGGED = """, reach_logged AS (
    INSERT INTO reach_lists (items) SELECT array_agg(item_id) FROM delivered HAVING count(*) > 0
)
SELECT count(*) FROM delivered"""
# Another backfill may be writing the person's entries meanwhile (a yes's, or the schedule's:
# they hold the consent row FOR SHARE, as this does; fan-outs wait for the audience lock
# this holds shared): what is there already stays.
_BACKFILL = f"""{_PERSON_AND_ITEMS.format(locks="FOR SHARE OF c")}, delivered AS (
    {_backfill_entries()}
    ON CONFLICT DO NOTHING
    RETURNING item_id
), placed AS (
    -- A yes of theirs left unplaced (ADR 0033) is placed here if it is seen: in this
    -- statement's snapshot its consent row is seen too, committed with it.
    DELETE FROM unplaced_yeses WHERE advocate_id = $4
){_REACH_LOGGED}"""
# After this transaction's consent change, which holds the person's consent row (FOR UPDATE,
# or a row nobody else sees yet): every other backfill of their entries takes that row FOR
# SHARE first, and a fan-out the audience lock this yes holds shared, so each committed before
# this statement began (its entries are seen here) or waits for this commit. A person with no
# entry then gets plain inserts (ADR 0025: the speculative insertion of ON CONFLICT was a
# fifth to a third of the statement); one with entries keeps them, as above (none is expected:
# a yes again brings nothing, a no deleted them, and only fan-outs and backfills of valid
# yeses write any). `had` is read once. Someone not in the directory in this snapshot is left
# in `unplaced_yeses` (ADR 0033: their join may be committing unseen, not seeing this yes
# either); so is someone whose profile a change is changing in reach now, or leaving (SKIP
# LOCKED: its backfill does not see this yes, nor this the new profile). Otherwise the profile
# stays locked until commit (FOR KEY SHARE: only `reach_changing`'s FOR UPDATE and a delete
# wait for it, not a digest change): a change of reach waits for this yes, and its backfill
# then sees it.
_BACKFILL_AFTER_CONSENT = f"""{_PERSON_AND_ITEMS.format(locks="FOR SHARE OF c FOR KEY SHARE OF p SKIP LOCKED")},
had AS MATERIALIZED (
    SELECT EXISTS (SELECT 1 FROM feed WHERE advocate_id = $4) AS entries
), fresh AS (
    {_backfill_entries("WHERE NOT (SELECT entries FROM had)")}
    RETURNING item_id
), again AS (
    {_backfill_entries("WHERE (SELECT entries FROM had)")}
    ON CONFLICT DO NOTHING
    RETURNING item_id
), delivered AS (
    SELECT item_id FROM fresh UNION ALL SELECT item_id FROM again
), unplaced AS (
    -- Only if no row is seen: a speculative insert would wait on a join deleting the row
    -- (`joined`) while that join waits on this transaction's consent row (a deadlock).
    INSERT INTO unplaced_yeses SELECT $4 WHERE NOT EXISTS (SELECT 1 FROM person)
        AND NOT EXISTS (SELECT 1 FROM unplaced_yeses WHERE advocate_id = $4)
    ON CONFLICT DO NOTHING
){_REACH_LOGGED}"""


# One transaction-scoped advisory lock per schema (a test's scratch schema is another key).
_AUDIENCE_KEY = "hashtext(current_schema() || ':audience')"


async def share_audience(conn: Connection) -> None:
    """Wait for the audience lock, shared, until the transaction ends: what shrinks an
    audience (an erasure; a no takes it in `withdraw_consent`: ADR 0039) before the statement
    that deletes the person's feed, so that a fan-out committing meanwhile is seen by that
    delete, or sees the change. Also `place_yeses`, which grows it. Holders of it shared do
    not wait for each other."""
    await conn.execute(f"SELECT pg_advisory_xact_lock_shared({_AUDIENCE_KEY})")


async def hold_audience(conn: Connection) -> None:
    """Wait for the audience lock, exclusive, until the transaction ends (ADR 0033): a fan-out's,
    and an item's end's. The changes that grow an audience (`reach_changing`,
    `give_consent`) take it shared in the statement before their backfill, those that shrink
    it (`share_audience`, `withdraw_consent`) before their delete (they do not wait for each
    other). Its own statement, before the one that reads: READ COMMITTED takes each
    statement's snapshot when it begins, so the next one sees what the lock's last holders
    committed. A transaction takes one mode only (a shared holder asking for exclusive would wait for the
    others, and they for it)."""
    await conn.execute(f"SELECT pg_advisory_xact_lock({_AUDIENCE_KEY})")


# Whether a join or change may bring the person into items' reach they were not in: someone
# new, or a profile (not older than the one held, nor than their departure) changing what
# `_REACHES` reads of people (its lists as sets: a new order changes nothing).
# If so the audience lock is taken shared in the same statement (ADR 0033).
# A change of someone held also locks their row FOR UPDATE here: a yes's backfill reading it
# FOR KEY SHARE SKIP LOCKED then skips them (see `_BACKFILL_AFTER_CONSENT`), or held it
# first, and this waits for the yes; a plain upsert (a digest or networks change) takes FOR
# NO KEY UPDATE, which neither waits for a yes nor makes one skip.
# First of all it takes the person's lock (`directory.hold`, before their row's, as an
# erasure takes them); what it reads may predate an erasure that then committed, which
# `directory.apply`'s upsert, the next statement, sees: at worst an audience lock for nobody.
_REACH_CHANGING = f"""WITH person AS MATERIALIZED (SELECT {directory.hold_sql("$1")}),
reach AS MATERIALIZED (SELECT NOT EXISTS (
        SELECT 1 FROM people WHERE advocate_id = $1
            AND (as_of > $7 OR (role = $2 AND org_unit IS NOT DISTINCT FROM $3
                 AND location IS NOT DISTINCT FROM $4 AND languages @> $5 AND languages <@ $5
                 AND interests @> $6 AND interests <@ $6))
    ) AND NOT {directory.ended_after("$1", "$7")} AS changing FROM person),
held AS (SELECT 1 FROM people WHERE advocate_id = $1 AND (SELECT changing FROM reach) FOR UPDATE)
SELECT changing, CASE WHEN changing THEN pg_advisory_xact_lock_shared({_AUDIENCE_KEY}) END,
       (SELECT count(*) FROM held)
FROM reach"""


async def reach_changing(conn: Connection, profile: Profile, as_of: datetime) -> bool:
    """Whether the join or change of `profile` (announced at `as_of`) may bring the person
    into the reach of items they were not in: they are new to the directory, or their role,
    org unit, location, languages or interests change (a profile older than the one held
    changes nothing). If so the audience lock is taken shared (ADR 0033) in the same round
    trip, before their backfill. Takes the person's lock first (`directory.hold`): call
    `directory.apply` after it with `held=True`."""
    return bool(await conn.fetchval(_REACH_CHANGING, profile.advocate_id, profile.role.value, profile.org_unit,
                                    profile.location, profile.languages, profile.interests, as_of))


_UPSERT_CONSENT = """INSERT INTO consents (advocate_id, purpose, valid, sequence) {row}
    ON CONFLICT (advocate_id, purpose) DO UPDATE SET valid = EXCLUDED.valid, sequence = EXCLUDED.sequence
    WHERE consents.sequence < EXCLUDED.sequence OR (EXCLUDED.sequence = 0 AND consents.sequence = 0)
    RETURNING true"""
_SET_CONSENT = _UPSERT_CONSENT.format(row="VALUES ($1, $2, $3, $4)")
# The same after the audience lock, shared, in one round trip: the row inserted is selected
# from the lock's CTE, so the lock is held before the person's row is (ADR 0039's order).
_SET_CONSENT_SHRINKING = f"""WITH audience AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared({_AUDIENCE_KEY}))
{_UPSERT_CONSENT.format(row="SELECT $1, $2, $3::boolean, $4::bigint FROM audience")}"""
# The same, answering whether a yes grows the audience: no row before, or one not valid (read
# in the statement's snapshot: only this subscriber writes the row, a person at a time); one
# that does takes the audience lock shared, after its row (ADR 0033).
_GIVE_CONSENT = f"""WITH before AS (SELECT valid FROM consents WHERE advocate_id = $1 AND purpose = $2),
applied AS ({_SET_CONSENT}),
growing AS (SELECT NOT coalesce((SELECT valid FROM before), false) AS grows FROM applied)
SELECT grows, CASE WHEN grows THEN pg_advisory_xact_lock_shared({_AUDIENCE_KEY}) END FROM growing"""


async def set_consent(conn: Connection, advocate_id: str, purpose: str, valid: bool, sequence: int | None) -> bool:
    """Locks the row: a backfill or share request reading it waits for this transaction (see
    module doc). Only a change later in the consent service's order (a higher `sequence`,
    ADR 0019) applies, never by time; a record from before sequences (None) applies only
    where no sequenced one was; returns whether it did."""
    return await conn.fetchval(_SET_CONSENT, advocate_id, purpose, valid, sequence or 0) is not None


async def withdraw_consent(conn: Connection, advocate_id: str, purpose: str, sequence: int | None) -> bool:
    """`set_consent` of a no that shrinks an audience or stops scheduled posts, after taking
    the audience lock shared (`share_audience`, ADR 0039) in the same statement; the
    statement after it (the shares' cancel, carrying the feed's delete) sees what a fan-out
    holding the lock committed."""
    return await conn.fetchval(_SET_CONSENT_SHRINKING, advocate_id, purpose, False, sequence or 0) is not None


async def give_consent(conn: Connection, advocate_id: str, purpose: str, sequence: int | None) -> bool | None:
    """`set_consent` of a yes: None if it does not apply; else whether it grows the audience
    (the row is new, or was not valid: nobody reading it FOR SHARE waits for this
    transaction, so the yes has taken the audience lock, shared, for its backfill: ADR 0033).
    A yes again while valid takes no lock: it changes nobody's reach."""
    grows: bool | None = await conn.fetchval(_GIVE_CONSENT, advocate_id, purpose, True, sequence or 0)
    return grows


class ShareContext(NamedTuple):
    """What a share request needs to know, read in one statement (`share_context`)."""

    item: ItemView | None
    receives: bool  # receive_content held
    may_schedule: bool  # scheduled_sharing held
    in_feed: bool  # the item is in the advocate's feed (and they receive content)


# Both consent rows are locked FOR SHARE (in purpose order) until commit, so that a
# withdrawal racing a share request waits, then finds (and cancels) what it created (module
# doc); the aggregate reads, and so locks, every row.
_SHARE_CONTEXT = """
WITH allowed AS (
    SELECT coalesce(bool_or(valid) FILTER (WHERE purpose = 'receive_content'), false) AS receives,
           coalesce(bool_or(valid) FILTER (WHERE purpose = 'scheduled_sharing'), false) AS may_schedule
    FROM (SELECT purpose, valid FROM consents
          WHERE advocate_id = $1 AND purpose IN ('receive_content', 'scheduled_sharing')
          ORDER BY purpose FOR SHARE) c)
SELECT a.receives, a.may_schedule,
       a.receives AND EXISTS (SELECT 1 FROM feed WHERE advocate_id = $1 AND item_id = $2) AS in_feed,
       i.item_id, i.status, i.campaign_id, i.content
FROM allowed a LEFT JOIN items i ON i.item_id = $2"""


async def share_context(conn: Connection, advocate_id: str, item_id: str) -> ShareContext:
    """The item as curation last announced it, with its status here (None if unknown);
    whether the advocate allows receiving and scheduling (both consent rows stay locked FOR
    SHARE until commit); whether the item is in their feed: one round trip, not four.

    The feed is read in the statement's snapshot, taken before a lock wait; a feed entry a
    consent given meanwhile brought in is not seen then. So when the consent allows receiving
    and the entry was not seen, it is looked for again (`in_feed`), as a separate statement
    after the lock did: the answer is what the four statements gave."""
    row = await conn.fetchrow(_SHARE_CONTEXT, advocate_id, item_id)
    assert row is not None, "an aggregate's one row, left-joined to the item"
    item_ = None if row["item_id"] is None else ItemView.of(row["item_id"], row["status"], row["campaign_id"],
                                                             json.loads(row["content"]))
    in_feed_ = row["in_feed"] or (row["receives"] and await in_feed(conn, advocate_id, item_id))
    return ShareContext(item_, row["receives"], row["may_schedule"], in_feed_)


class SavedItem(NamedTuple):
    """What `save_item` did to an active item."""

    new: bool  # not here before
    reach_changed: bool  # new, or its audience, language or topics changed: whom it reaches may grow


# The audience columns (`_REACHES` reads them; lists as sets) are generated from the content
# (migration 006): read before the upsert, in its snapshot (only this subscriber writes items,
# one at a time), and compared with the new ones in RETURNING.
_REACH_LISTS = ("audience_roles", "audience_org_units", "audience_locations", "audience_languages",
                "audience_interests", "item_topics")
_SAME_REACH = " AND ".join([f"b.{c} @> items.{c} AND b.{c} <@ items.{c}" for c in _REACH_LISTS]
                           + ["b.item_language IS NOT DISTINCT FROM items.item_language"])
_SAVE_ITEM = f"""WITH before AS (SELECT {", ".join(_REACH_LISTS)}, item_language FROM items WHERE item_id = $1)
INSERT INTO items (item_id, status, campaign_id, content, updated_at, post_lengths)
VALUES ($1, 'active', $2, $3::jsonb, $4, $5::jsonb)
ON CONFLICT (item_id) DO UPDATE SET campaign_id = EXCLUDED.campaign_id,
    content = EXCLUDED.content, updated_at = EXCLUDED.updated_at, post_lengths = EXCLUDED.post_lengths
WHERE items.status = 'active'
RETURNING xmax = 0 AS new,  -- a row inserted has no xmax yet; one updated has its updater's
          NOT EXISTS (SELECT 1 FROM before b WHERE {_SAME_REACH}) AS reach_changed"""


async def save_item(conn: Connection, item_id: str, campaign_id: str | None, content: dict[str, Any],
                    at: datetime, post_lengths: dict[str, Any]) -> SavedItem | None:
    """Insert or update an active item, with its suggested posts' lengths
    (`{"link": ..., "lengths": {network: n}}`, migration 003); None if it was retracted or
    expired (it stays so, and a replayed publication must not fan it out again)."""
    row = await conn.fetchrow(_SAVE_ITEM, item_id, campaign_id, json.dumps(content), at, json.dumps(post_lengths))
    return None if row is None else SavedItem(row["new"], row["reach_changed"])


async def end_item(conn: Connection, item_id: str, status: str) -> None:
    """Retracted or expired: out of every feed, its waiting notifications with it."""
    await conn.execute("UPDATE items SET status = $2 WHERE item_id = $1", item_id, status)
    await conn.execute("DELETE FROM feed WHERE item_id = $1", item_id)


class FeedEntry(NamedTuple):
    """One item in a person's feed."""

    item: ItemView
    delivered_at: datetime
    lengths: dict[str, int] | None  # its suggested posts' lengths if counted with the link asked for
    version: datetime  # when the item's content last changed (`items.updated_at`): it and the id name the content


# A page of a person's feed, newest first: one index range (feed_newest_first) and the
# items by primary key; the person's networks ride along (an InitPlan: read once).
_FEED_PAGE = """
SELECT f.delivered_at, i.item_id, i.status, i.campaign_id, i.content, i.post_lengths, i.updated_at,
       (SELECT networks FROM people WHERE advocate_id = $1) AS networks
FROM feed f JOIN items i USING (item_id)
WHERE f.advocate_id = $1 AND i.status = 'active' {after}
ORDER BY f.delivered_at DESC, f.item_id DESC
LIMIT $2"""
_FIRST_FEED_PAGE = _FEED_PAGE.format(after="")
_NEXT_FEED_PAGE = _FEED_PAGE.format(after="AND (f.delivered_at, f.item_id) < ($3, $4)")


async def feed_page(conn: Connection, advocate_id: str, after: tuple[datetime, str] | None, limit: int,
                    link: str) -> tuple[list[str], list[FeedEntry]]:
    """Up to `limit` items of the advocate's feed, newest first (by delivery, then item id),
    after the position `after` (None: from the newest); and the networks the advocate named
    in the directory (empty if none, or if the page is). `link` is the stand-in tracked link
    the caller counts posts with: stored lengths counted with another one are not given."""
    if after is None:
        rows = await conn.fetch(_FIRST_FEED_PAGE, advocate_id, limit)
    else:
        rows = await conn.fetch(_NEXT_FEED_PAGE, advocate_id, limit, *after)
    networks = list(rows[0]["networks"] or ()) if rows else []
    return networks, [FeedEntry(_item_view(r["item_id"], r["status"], r["campaign_id"], r["content"]),
                                r["delivered_at"], _lengths(r["post_lengths"], link), r["updated_at"]) for r in rows]


# Every feed page holding an item reads the same JSON for it: taken apart once per text (the
# key is the text itself, so an edited item is parsed again). Callers do not change what these give.
@lru_cache(maxsize=4096)
def _item_view(item_id: str, status: str, campaign_id: str | None, content: str) -> ItemView:
    return ItemView.of(item_id, status, campaign_id, json.loads(content))


@lru_cache(maxsize=4096)
def _lengths(stored: str | None, link: str) -> dict[str, int] | None:
    if stored is None:
        return None
    counted = json.loads(stored)
    return counted["lengths"] if counted.get("link") == link else None


async def in_feed(conn: Connection, advocate_id: str, item_id: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT true FROM feed WHERE advocate_id = $1 AND item_id = $2", advocate_id, item_id))


async def fan_out(conn: Connection, item_id: str, content: dict[str, Any], now: datetime,
                  daily_at: datetime, weekly_at: datetime, new: bool = False) -> int:
    """Feed entries, each with its notification waiting, for everyone the item's audience
    reaches, in one statement; returns how many people it reached. `new`: the item was saved
    for the first time in this transaction (`save_item` said `new`), so no entry for it exists,
    and its notifications wait by the item (ADR 0044); otherwise each added entry waits by its
    own time. The audience and consents are joined by hash in memory, not in batches on disk
    (a million people with UUIDs need about 76 MB), then sorted (a million UUIDs spill about
    58 MB to disk, no slower than in memory). Not a merge join of both tables' keys, which
    the planner prefers for a large audience (every row fetched through its index: 6.4 s
    against 5.5–6.1 for a million people, ADR 0048). Planned for this item's audience every
    time, never by the connection's generic plan (ADR 0049): that one guesses an audience of
    one person and probes the consents once per person (1.03 s against 0.45 for 100,000)."""
    audience = content.get("audience", {})
    # Until the transaction ends: the unit of work of the handler's Kafka batch, whose later
    # events are planned with these settings too (ADR 0049).
    await conn.execute("SET LOCAL work_mem = '96MB'; SET LOCAL enable_mergejoin = off; "
                       "SET LOCAL plan_cache_mode = force_custom_plan")
    # How many: the command tag's count ("INSERT 0 n"), not RETURNING rows counted in a CTE,
    # which held every entry written in a tuplestore (about 7 % of its Postgres CPU).
    status = await conn.execute(
        _FAN_OUT_NEW if new else _FAN_OUT_AGAIN, now, daily_at, weekly_at, item_id, audience.get("roles", []),
        audience.get("org_units", []),
        audience.get("locations", []), audience.get("languages", []), audience.get("topics", []),
        content["language"], content.get("topics", []))
    reached = int(status.split()[-1])
    if new and reached:
        await conn.execute(_FAN_OUT_NOTIFICATIONS, item_id, now, daily_at, weekly_at)
    return reached


async def distributed(conn: Connection, item_id: str, size: int, told: int) -> None:
    """The item reached `size` people at publication; partners were told `told` of them
    (0 when told "fewer than k"; item.distributed.v2)."""
    await conn.execute(
        """INSERT INTO item_reach (item_id, reached, announced) VALUES ($1, $2, $3)
           ON CONFLICT (item_id) DO UPDATE SET reached = item_reach.reached + EXCLUDED.reached""",
        item_id, size, told)


async def count_reach(conn: Connection) -> None:
    """Backfills' logged additions, added to their items' reach and removed from the log:
    each backfill's list of items (reach_lists), and the per-item rows pods of the version
    before migration 008 log during a rolling upgrade (reach_added). Rows a concurrent pass
    took are skipped (its DELETE came first), so none counts twice."""
    await conn.execute(
        """WITH listed AS (DELETE FROM reach_lists RETURNING items),
           logged AS (DELETE FROM reach_added RETURNING item_id, added),
           taken AS (SELECT unnest(items) AS item_id, 1 AS added FROM listed
                     UNION ALL SELECT item_id, added FROM logged)
           INSERT INTO item_reach (item_id, reached, announced)
           SELECT item_id, sum(added), 0 FROM taken GROUP BY item_id
           ON CONFLICT (item_id) DO UPDATE SET reached = item_reach.reached + EXCLUDED.reached""")


class Growth(NamedTuple):
    item_id: str
    reached: int
    added: int


# Active items that reached at least k more people than partners were last told; locked
# (SKIP LOCKED: a second replica takes others) and marked told in the same statement.
_GREW = """
WITH grown AS (
    SELECT r.item_id, r.reached, r.announced FROM item_reach r JOIN items i USING (item_id)
    WHERE i.status = 'active' AND r.reached - r.announced >= $1
    ORDER BY r.item_id LIMIT $2 FOR UPDATE OF r SKIP LOCKED)
UPDATE item_reach r SET announced = g.reached FROM grown g WHERE r.item_id = g.item_id
RETURNING r.item_id, g.reached, g.reached - g.announced AS added"""


async def claim_growth(conn: Connection, k: int, limit: int) -> list[Growth]:
    """Up to `limit` active items whose audience grew by `k` or more since last told, now
    marked told (ADR 0022)."""
    return [Growth(r["item_id"], r["reached"], r["added"]) for r in await conn.fetch(_GREW, k, limit)]


async def backfill(conn: Connection, advocate_id: str, now: datetime, daily_at: datetime,
                   weekly_at: datetime, daily_cap: int, after_consent: bool = False) -> int:
    """Every active item whose audience reaches `advocate_id`, into their feed; returns how
    many entries were added. With an immediate digest, `daily_cap` of them (the newest) wait
    to be notified now and the rest for the daily digest at `daily_at`. `after_consent`:
    this transaction has just changed the person's `receive_content` row (`set_consent`
    returned True), so it holds that row and a person without entries gets plain inserts;
    otherwise (a join) any entry may be written concurrently, and each row checks for its own."""
    return int(await conn.fetchval(_BACKFILL_AFTER_CONSENT if after_consent else _BACKFILL,
                                   now, daily_at, weekly_at, advocate_id, daily_cap))


# At most this many people a pass: each backfill holds their consent row (FOR SHARE) until
# the pass commits, and a withdrawal of theirs waits for it.
_PLACED_PER_PASS = 50


async def place_yeses(conn: Connection, now: datetime, daily_at: datetime, weekly_at: datetime,
                      daily_cap: int) -> int:
    """Backfill whoever said yes when not in the directory and is in it now (their join
    and their yes committed at the same moment, neither seeing the other: ADR 0033), as a
    join's backfill, up to `_PLACED_PER_PASS` of them (another replica's pass takes others:
    SKIP LOCKED); returns how many people. The audience lock is taken shared first, as a
    join's: a fan-out or an item's end committing now waits for these backfills, or they
    for it."""
    await share_audience(conn)
    placed = await conn.fetch("""DELETE FROM unplaced_yeses WHERE advocate_id IN (
        SELECT u.advocate_id FROM unplaced_yeses u JOIN people p USING (advocate_id)
        LIMIT $1 FOR UPDATE OF u SKIP LOCKED) RETURNING advocate_id""", _PLACED_PER_PASS)
    for row in placed:
        await backfill(conn, row["advocate_id"], now, daily_at, weekly_at, daily_cap)
    return len(placed)


async def forget_unplaced(conn: Connection, advocate_id: str) -> None:
    """A yes of theirs left unplaced is forgotten: they left the directory."""
    await conn.execute("DELETE FROM unplaced_yeses WHERE advocate_id = $1", advocate_id)


# What stops delivery to the person $1, as CTEs that a statement of a withdrawal's can carry
# (share_store.cancel_unposted). An unplaced row a `place_yeses` pass holds is skipped, not
# waited for: the pass waits for this transaction's consent row (a deadlock otherwise), then
# finds the no, places nothing, and deletes the row itself.
STOPPING_DELIVERY = """unplaced AS (DELETE FROM unplaced_yeses WHERE advocate_id IN (
    SELECT advocate_id FROM unplaced_yeses WHERE advocate_id = $1 FOR UPDATE SKIP LOCKED)),
feed_deleted AS (DELETE FROM feed WHERE advocate_id = $1)"""


async def stop_delivery(conn: Connection, advocate_id: str) -> None:
    """No `receive_content` any more: their feed goes, and with it what waits to be notified,
    and a yes of theirs left unplaced (ADR 0033), in the same statement (an erasure's; a
    withdrawal's goes with its cancel of shares, share_store.cancel_unposted)."""
    await conn.execute(f"WITH {STOPPING_DELIVERY} SELECT", advocate_id)


async def erase_consents(conn: Connection, advocate_id: str) -> None:
    """An erasure's first delete here (after the directory's): their consent rows, locked
    until commit, as a withdrawal locks its row before `stop_delivery`."""
    await conn.execute("DELETE FROM consents WHERE advocate_id = $1", advocate_id)


async def erase(conn: Connection, advocate_id: str) -> None:
    """What is left about the advocate after `directory.forget` and `erase_consents`: their
    feed and what waits to be notified, what was sent; their shares stay as links, without
    them."""
    await stop_delivery(conn, advocate_id)
    await conn.execute("DELETE FROM notifications_sent WHERE advocate_id = $1", advocate_id)
    await conn.execute("UPDATE shares SET advocate_id = NULL, post = NULL WHERE advocate_id = $1", advocate_id)


# Rows a pod of the version before migration 007 queued while it still ran beside this one
# (a rolling upgrade), moved into their feed entries; dropped where the entry is gone (the
# person said no, or the item ended: what the older pod's own delete would have done).
_ADOPT_QUEUED = """
WITH queued AS (DELETE FROM pending_notifications RETURNING advocate_id, item_id, digest, due_at)
UPDATE feed f SET digest = queued.digest, due_at = queued.due_at FROM queued
WHERE f.item_id = queued.item_id AND f.advocate_id = queued.advocate_id"""


async def adopt_queued_notifications(conn: Connection) -> None:
    """Notifications pods of the version before ADR 0025 queued as rows of their own during
    a rolling upgrade, into the feed entries they are about (`pending_notifications` is empty
    otherwise: one look at an empty table). Goes with the table in a later release."""
    await conn.execute(_ADOPT_QUEUED)


# Feed entries whose notification is due by their own time (index feed_due), oldest first,
# no longer waiting.
_CLAIM_NOTIFICATIONS = """
WITH due AS (
    SELECT item_id, advocate_id, digest FROM feed WHERE due_at <= $1
    ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
UPDATE feed f SET digest = NULL, due_at = NULL FROM due
WHERE f.item_id = due.item_id AND f.advocate_id = due.advocate_id
RETURNING f.advocate_id, f.item_id, due.digest"""


# The oldest due row of a new item's fan-out (ADR 0044), but those this pass left ($2, $3),
# held until commit: a second replica walks another.
_DUE_FAN_OUT = """SELECT item_id, digest, sent_through FROM fan_out_notifications
    WHERE due_at <= $1 AND (item_id, digest) NOT IN (SELECT * FROM unnest($2::text[], $3::text[]))
    ORDER BY due_at, item_id, digest LIMIT 1 FOR UPDATE SKIP LOCKED"""
# Its next entries in key order (`candidates`), cleared as they are claimed. An entry another
# transaction holds (a withdrawal or retraction deleting it) is passed by (SKIP LOCKED: a
# wait here could close a cycle with a deleter waiting for an entry this pass claimed), and
# the walk's mark stays before it, so it is looked at again if that transaction rolls back.
_WALK_FAN_OUT = """
WITH candidates AS MATERIALIZED (
    SELECT advocate_id FROM feed WHERE item_id = $1 AND advocate_id > $2 AND digest = $3 AND due_at IS NULL
    ORDER BY advocate_id LIMIT $4
), locked AS (
    SELECT f.advocate_id FROM feed f JOIN candidates c ON f.item_id = $1 AND f.advocate_id = c.advocate_id
    WHERE f.digest = $3 AND f.due_at IS NULL
    FOR UPDATE OF f SKIP LOCKED
), claimed AS (
    UPDATE feed f SET digest = NULL FROM locked
    WHERE f.item_id = $1 AND f.advocate_id = locked.advocate_id
    RETURNING f.advocate_id
), passed_by AS (
    SELECT min(advocate_id) AS first FROM candidates WHERE advocate_id NOT IN (SELECT advocate_id FROM claimed)
), marked AS (
    UPDATE fan_out_notifications SET sent_through = coalesce(
        (SELECT max(c.advocate_id) FROM claimed c, passed_by p WHERE p.first IS NULL OR c.advocate_id < p.first),
        sent_through)
    WHERE item_id = $1 AND digest = $3
)
SELECT (SELECT count(*) FROM candidates), array(SELECT advocate_id FROM claimed ORDER BY advocate_id)"""


async def claim_due_notifications(conn: Connection, now: datetime, limit: int) -> list[DueNotification]:
    """Up to `limit` pending notifications due by `now`, cleared from their feed entries as
    they are claimed: those of due fan-outs, a fan-out's in its entries' key order (ADR
    0044), and those waiting in their entries, oldest first (SKIP LOCKED: a second replica
    claims others); each kind gets at least half the pass when it has that much. A fan-out's
    row goes when nothing of it is left. A rollback returns them all."""
    left: set[tuple[str, str]] = set()  # fan-outs whose next entries others hold: next pass
    due = await _walk_fan_outs(conn, now, (limit + 1) // 2, left)
    rows = await conn.fetch(_CLAIM_NOTIFICATIONS, now, limit - len(due))
    due += [DueNotification(r["advocate_id"], r["item_id"], Digest(r["digest"])) for r in rows]
    return due + await _walk_fan_outs(conn, now, limit - len(due), left)


async def _walk_fan_outs(conn: Connection, now: datetime, limit: int, left: set[tuple[str, str]]
                         ) -> list[DueNotification]:
    due: list[DueNotification] = []
    while len(due) < limit and (fan_out := await conn.fetchrow(
            _DUE_FAN_OUT, now, [i for i, _ in left], [d for _, d in left])) is not None:
        item_id, digest = fan_out["item_id"], fan_out["digest"]
        [(candidates, claimed)] = await conn.fetch(_WALK_FAN_OUT, item_id, fan_out["sent_through"], digest,
                                                   limit - len(due))
        if candidates == 0:
            await conn.execute("DELETE FROM fan_out_notifications WHERE item_id = $1 AND digest = $2",
                               item_id, digest)
        elif not claimed:
            left.add((item_id, digest))
        due += [DueNotification(advocate, item_id, Digest(digest)) for advocate in claimed]
    return due


# The day's counts of `advocate_ids`, each made where missing (in key order, as a second
# replica's pass makes them), then held until commit: a pass with the same person waits for
# this one and reads what it sent, so the daily cap holds across replicas. Two statements: the
# second sees rows another pass made and committed while the first waited for them.
_MAKE_COUNTS = """INSERT INTO notifications_sent (advocate_id, day, immediate)
    SELECT advocate_id, $1, 0 FROM unnest($2::text[]) AS advocate_id ORDER BY advocate_id
    ON CONFLICT (advocate_id, day) DO NOTHING"""
_HELD_COUNTS = """SELECT advocate_id, immediate FROM notifications_sent
    WHERE day = $1 AND advocate_id = ANY($2::text[]) ORDER BY advocate_id FOR UPDATE"""


async def immediate_sent(conn: Connection, day: date, advocate_ids: Sequence[str]) -> dict[str, int]:
    """How many immediate notifications each of `advocate_ids` got on `day`; their counts are
    held (FOR UPDATE) until this transaction ends."""
    if not advocate_ids:
        return {}
    await conn.execute(_MAKE_COUNTS, day, list(advocate_ids))
    rows = await conn.fetch(_HELD_COUNTS, day, list(advocate_ids))
    return {r["advocate_id"]: r["immediate"] for r in rows}


async def count_immediate_sent(conn: Connection, day: date, sent: Mapping[str, int]) -> None:
    """Add `sent` (advocate_id -> how many) to the day's counts of immediate notifications."""
    await conn.executemany(
        """INSERT INTO notifications_sent (advocate_id, day, immediate) VALUES ($1, $2, $3)
           ON CONFLICT (advocate_id, day) DO UPDATE SET immediate = notifications_sent.immediate + $3""",
        [(advocate, day, n) for advocate, n in sent.items()])


async def postpone_to_daily(conn: Connection, pairs: Sequence[tuple[str, str]], due_at: datetime) -> None:
    """(advocate_id, item_id) pairs wait for the daily digest at `due_at` (their feed entries
    are locked by the claim that returned them)."""
    await conn.executemany(
        "UPDATE feed SET digest = 'daily', due_at = $3 WHERE item_id = $2 AND advocate_id = $1",
        [(advocate, item, due_at) for advocate, item in pairs])
