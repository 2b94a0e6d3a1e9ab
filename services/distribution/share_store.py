"""Distribution's SQL for shares: created, scheduled, requested, posted, cancelled; an
advocate's own shares, newest first; and the tracked links that resolve to them."""

from datetime import UTC, datetime
from typing import NamedTuple

import asyncpg

from schemas.directory import Network
from services.distribution import store
from services.distribution.domain import ShareStatus
from services.runtime.unit_of_work import Connection, Deferred, DeferredTable, write_rows


class EndedShare(NamedTuple):
    """A share that will not be posted, or whose post should come down."""

    share_id: str
    item_id: str
    network: Network
    in_flight: bool = False  # handed to a connector already (cancel_unposted), not only scheduled


class DuePost(NamedTuple):
    """A scheduled share whose time has come, for a connector to post."""

    share_id: str
    advocate_id: str
    network: Network
    post: str


class TrackedLink(NamedTuple):
    """What a tracked code resolves to."""

    share_id: str
    item_id: str
    campaign_id: str | None
    network: Network
    target_url: str | None  # None for shares made before targets were stored (migration 002)
    item_status: str  # active, retracted, expired
    source_url: str


class AdvocateShare(NamedTuple):
    """One of an advocate's shares, as the advocate sees it."""

    share_id: str
    code: str
    item_id: str
    campaign_id: str | None
    network: Network
    post: str
    status: ShareStatus
    scheduled_at: datetime | None
    created_at: datetime


_ENDED = "share_id, item_id, network, recalled IS NOT NULL AS in_flight"
_SHARE = "share_id, code, item_id, campaign_id, network, post, status, scheduled_at, created_at"


def _ended(rows: list[asyncpg.Record]) -> list[EndedShare]:
    return [EndedShare(r["share_id"], r["item_id"], Network(r["network"]), r["in_flight"]) for r in rows]


# A new share's row, as `create` may leave it for the end of an HTTP command's transaction.
SHARES = DeferredTable("shares", (
    ("share_id", "text"), ("code", "text"), ("advocate_id", "text"), ("item_id", "text"), ("campaign_id", "text"),
    ("network", "text"), ("post", "text"), ("target_url", "text"), ("status", "text"),
    ("scheduled_at", "timestamptz"), ("created_at", "timestamptz")))


async def create(conn: Connection, share_id: str, code: str, advocate_id: str, item_id: str,
                 campaign_id: str | None, network: str, post: str, target_url: str,
                 scheduled_at: datetime | None, now: datetime, deferred: Deferred | None = None) -> AdvocateShare:
    """`target_url` is fixed now: a later edit of the item must not repoint a posted link.
    Returns the share as the advocate sees it (as `share_of` would read it back: times in
    UTC). With `deferred` (an HTTP command's, `UnitOfWork.deferred`) the row is written with
    the transaction's outbox rows, one statement for all of a group commit's shares (ADR
    0046): nothing in the transaction reads a share it has just made."""
    status = ShareStatus.SCHEDULED if scheduled_at else ShareStatus.CREATED
    await write_rows(conn, SHARES, [(share_id, code, advocate_id, item_id, campaign_id, network, post, target_url,
                                     status.value, scheduled_at, now)], deferred)
    return AdvocateShare(share_id, code, item_id, campaign_id, Network(network), post, status,
                         scheduled_at and scheduled_at.astimezone(UTC), now.astimezone(UTC))


async def cancel_scheduled(conn: Connection, *, advocate_id: str | None = None,
                           item_id: str | None = None) -> list[EndedShare]:
    """Scheduled shares of an advocate or of an item that will not be posted now."""
    return _ended(await conn.fetch(
        f"""UPDATE shares SET status = 'cancelled'
            WHERE status = 'scheduled' AND (advocate_id = $1 OR item_id = $2) RETURNING {_ENDED}""",
        advocate_id, item_id))


async def cancel_unposted(conn: Connection, advocate_id: str, reason: str, stopping_delivery: bool = False
                          ) -> list[EndedShare]:
    """The advocate's shares a connector is not to post: scheduled ones, and those it was
    already asked to post (`publish_requested`, in flight) and has not reported on, which
    keep `reason` in `recalled` (see `record_outcome`). With `stopping_delivery` (a
    `receive_content` no), their feed goes in the same statement (`store.stop_delivery`):
    one round trip, not two. Its feed and share rows are then locked in an order Postgres
    does not promise, which no other transaction can meet in reverse: the one that locks
    both (an item's end) holds the audience lock exclusive, and every other writer of either
    locks the person's consent row first, which the no holds (ADR 0039's addendum)."""
    deleting = f"WITH {store.STOPPING_DELIVERY} " if stopping_delivery else ""
    return _ended(await conn.fetch(
        f"""{deleting}UPDATE shares SET status = 'cancelled',
                recalled = CASE WHEN status = 'publish_requested' THEN $2 END
            WHERE advocate_id = $1 AND status IN ('scheduled', 'publish_requested') RETURNING {_ENDED}""",
        advocate_id, reason))


async def posted(conn: Connection, item_id: str) -> list[EndedShare]:
    """Shares of an item that a connector posted (or was asked to)."""
    return _ended(await conn.fetch(
        f"SELECT {_ENDED} FROM shares WHERE item_id = $1 AND status IN ('publish_requested', 'published')",
        item_id))


async def claim_due(conn: Connection, now: datetime, limit: int = 500) -> list[DuePost]:
    """Scheduled shares whose time has come, marked requested (each once: SKIP LOCKED), and
    only while their advocate still allows it (withdrawal cancels them; this is the backstop)."""
    rows = await conn.fetch(
        """UPDATE shares SET status = 'publish_requested' WHERE share_id IN (
               SELECT s.share_id FROM shares s
               JOIN consents r ON r.advocate_id = s.advocate_id AND r.purpose = 'receive_content' AND r.valid
               JOIN consents p ON p.advocate_id = s.advocate_id AND p.purpose = 'scheduled_sharing' AND p.valid
               WHERE s.status = 'scheduled' AND s.scheduled_at <= $1
               ORDER BY s.scheduled_at LIMIT $2 FOR UPDATE OF s SKIP LOCKED)
           RETURNING share_id, advocate_id, network, post""", now, limit)
    return [DuePost(r["share_id"], r["advocate_id"], Network(r["network"]), r["post"]) for r in rows]


async def record_outcome(conn: Connection, share_id: str, status: str) -> tuple[EndedShare, str] | None:
    """A connector's report; a cancelled share stays cancelled. If it was recalled in flight
    and the connector reports it posted all the same, returns it with the reason it was
    recalled for (once: the mark is cleared), so that the post is asked to come down."""
    await conn.execute(
        "UPDATE shares SET status = $2 WHERE share_id = $1 AND status = 'publish_requested'", share_id, status)
    if status != "published":
        return None
    row = await conn.fetchrow(
        """WITH r AS (SELECT share_id, recalled FROM shares
                      WHERE share_id = $1 AND status = 'cancelled' AND recalled IS NOT NULL FOR UPDATE)
           UPDATE shares s SET recalled = NULL FROM r WHERE s.share_id = r.share_id
           RETURNING s.share_id, s.item_id, s.network, false AS in_flight, r.recalled""", share_id)
    return (_ended([row])[0], row["recalled"]) if row else None


async def resolve(conn: Connection, code: str) -> TrackedLink | None:
    """The share behind a tracked code, with its item's status and URL (stored codes only)."""
    row = await conn.fetchrow(
        """SELECT s.share_id, s.item_id, s.campaign_id, s.network, s.target_url, i.status AS item_status,
                  i.content->>'source_url' AS source_url
           FROM shares s JOIN items i USING (item_id) WHERE s.code = $1""", code)
    if row is None:
        return None
    return TrackedLink(row["share_id"], row["item_id"], row["campaign_id"], Network(row["network"]),
                       row["target_url"], row["item_status"], row["source_url"])


def _share(row: asyncpg.Record) -> AdvocateShare:
    return AdvocateShare(row["share_id"], row["code"], row["item_id"], row["campaign_id"], Network(row["network"]),
                         row["post"], ShareStatus(row["status"]), row["scheduled_at"], row["created_at"])


async def share_of(conn: Connection, advocate_id: str, share_id: str) -> AdvocateShare | None:
    """The advocate's share with this id; None if there is none, or it is someone else's."""
    row = await conn.fetchrow(f"SELECT {_SHARE} FROM shares WHERE share_id = $1 AND advocate_id = $2",
                              share_id, advocate_id)
    return _share(row) if row else None


_SHARES_PAGE = f"""SELECT {_SHARE} FROM shares WHERE advocate_id = $1 {{after}}
ORDER BY created_at DESC, share_id DESC LIMIT $2"""
_FIRST_SHARES_PAGE = _SHARES_PAGE.format(after="")
_NEXT_SHARES_PAGE = _SHARES_PAGE.format(after="AND (created_at, share_id) < ($3, $4)")


async def shares_page(conn: Connection, advocate_id: str, after: tuple[datetime, str] | None, limit: int
                      ) -> list[AdvocateShare]:
    """Up to `limit` of the advocate's shares, newest first (by creation, then id), after
    the position `after` (None: from the newest); one index range (shares_newest_first)."""
    if after is None:
        rows = await conn.fetch(_FIRST_SHARES_PAGE, advocate_id, limit)
    else:
        rows = await conn.fetch(_NEXT_SHARES_PAGE, advocate_id, limit, *after)
    return [_share(row) for row in rows]


async def status_for_update(conn: Connection, advocate_id: str, share_id: str) -> ShareStatus | None:
    """The status of the advocate's share, its row locked until commit (the scheduler's claim
    skips it meanwhile, or this waits for the claim and sees `publish_requested`); None if
    the advocate has no share of this id."""
    status = await conn.fetchval("SELECT status FROM shares WHERE share_id = $1 AND advocate_id = $2 FOR UPDATE",
                                 share_id, advocate_id)
    return ShareStatus(status) if status is not None else None


async def cancel(conn: Connection, share_id: str) -> EndedShare:
    """Cancel a share (its row locked by `status_for_update`)."""
    [ended] = _ended(await conn.fetch(
        f"UPDATE shares SET status = 'cancelled' WHERE share_id = $1 RETURNING {_ENDED}", share_id))
    return ended
