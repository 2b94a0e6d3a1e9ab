"""What the HTTP API reads: items, the review queue, campaigns, feed sources and the audit
trail, typed. Lists come newest first, a page at a time: each takes the position to
continue after (`None`s for the first page) and `limit`, and reads `limit` rows (the API
asks for one more than it shows, to know whether there is a next page)."""

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from schemas import curation
from schemas.curation import ItemStatus, SourceStatus
from services.curation import audit, store
from services.curation.domain import Item
from services.runtime.unit_of_work import Connection


@dataclass(frozen=True)
class ItemRow:
    item: Item
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ItemLine:
    """An item in a list: enough to find it, not its content."""

    item_id: str
    status: ItemStatus
    title: str
    campaign_id: str | None
    version: int
    revision_pending: bool
    title_from_text: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CampaignRow:
    campaign: curation.Campaign
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SourceRow:
    source: curation.Source
    status: SourceStatus
    last_polled_at: datetime | None
    last_error: str | None
    refused_entries: int
    created_at: datetime


_ITEM = f"SELECT {store.ITEM_COLUMNS}, created_at, updated_at FROM items"


def _item_row(row: asyncpg.Record) -> ItemRow:
    return ItemRow(store.item_of(row), row["created_at"], row["updated_at"])


async def item(conn: Connection, item_id: str) -> ItemRow | None:
    row = await conn.fetchrow(f"{_ITEM} WHERE id = $1", item_id)
    return _item_row(row) if row else None


async def items(conn: Connection, status: ItemStatus | None, after: tuple[datetime | None, str | None],
                limit: int) -> list[ItemLine]:
    """Items (of `status`, if given), by creation, newest first."""
    rows = await conn.fetch(
        """SELECT id, status, content->>'title' AS title, campaign_id, version, revision IS NOT NULL AS pending,
                  title_from_text, created_at, updated_at FROM items
           WHERE ($1::text IS NULL OR status = $1) AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
           ORDER BY created_at DESC, id DESC LIMIT $4""", status and status.value, *after, limit)
    return [ItemLine(r["id"], ItemStatus(r["status"]), r["title"], r["campaign_id"], r["version"], r["pending"],
                     r["title_from_text"], r["created_at"], r["updated_at"]) for r in rows]


async def awaiting_approval(conn: Connection, after: tuple[datetime | None, str | None], limit: int) -> list[ItemRow]:
    """The review queue: items in review and published items with a pending revision, by
    their last change (when they entered the queue, or the revision was last changed), newest first."""
    rows = await conn.fetch(
        f"""{_ITEM} WHERE (status = 'in_review' OR revision IS NOT NULL)
                AND ($1::timestamptz IS NULL OR (updated_at, id) < ($1, $2))
            ORDER BY updated_at DESC, id DESC LIMIT $3""", *after, limit)
    return [_item_row(r) for r in rows]


_CAMPAIGN = "SELECT id, name, goal, starts_on, ends_on, topics, owner, created_at, updated_at FROM campaigns"


def _campaign_row(row: asyncpg.Record) -> CampaignRow:
    return CampaignRow(curation.Campaign(campaign_id=row["id"], name=row["name"], goal=row["goal"],
                                         starts_on=row["starts_on"], ends_on=row["ends_on"], topics=row["topics"],
                                         owner=row["owner"]), row["created_at"], row["updated_at"])


async def campaign(conn: Connection, campaign_id: str) -> CampaignRow | None:
    row = await conn.fetchrow(f"{_CAMPAIGN} WHERE id = $1", campaign_id)
    return _campaign_row(row) if row else None


async def campaigns(conn: Connection, after: tuple[datetime | None, str | None], limit: int) -> list[CampaignRow]:
    rows = await conn.fetch(
        f"""{_CAMPAIGN} WHERE $1::timestamptz IS NULL OR (created_at, id) < ($1, $2)
            ORDER BY created_at DESC, id DESC LIMIT $3""", *after, limit)
    return [_campaign_row(r) for r in rows]


_SOURCE = """SELECT s.id, s.url, s.language, s.content_type, s.topics, s.status, s.last_polled_at, s.last_error,
                    s.created_at, (SELECT count(*) FROM feed_refusals r WHERE r.source_id = s.id) AS refused
             FROM sources s"""


def _source_row(row: asyncpg.Record) -> SourceRow:
    source = curation.Source(source_id=row["id"], url=row["url"], language=row["language"],
                             content_type=row["content_type"], topics=row["topics"])
    return SourceRow(source, SourceStatus(row["status"]), row["last_polled_at"], row["last_error"], row["refused"],
                     row["created_at"])


async def source(conn: Connection, source_id: str) -> SourceRow | None:
    row = await conn.fetchrow(f"{_SOURCE} WHERE s.id = $1", source_id)
    return _source_row(row) if row else None


async def sources(conn: Connection, after: tuple[datetime | None, str | None], limit: int) -> list[SourceRow]:
    rows = await conn.fetch(
        f"""{_SOURCE} WHERE $1::timestamptz IS NULL OR (s.created_at, s.id) < ($1, $2)
            ORDER BY s.created_at DESC, s.id DESC LIMIT $3""", *after, limit)
    return [_source_row(r) for r in rows]


async def audit_trail(conn: Connection, after: tuple[datetime | None, int | None], limit: int,
                      subject_id: str | None = None, actor: str | None = None) -> list[audit.Entry]:
    """Entries, newest first; only those about `subject_id` or by `actor`, if given."""
    rows = await conn.fetch(
        """SELECT entry_id, at, actor, action, subject_id, channel, command_id FROM audit
           WHERE ($1::text IS NULL OR subject_id = $1) AND ($2::text IS NULL OR actor = $2)
             AND ($3::timestamptz IS NULL OR (at, entry_id) < ($3, $4))
           ORDER BY at DESC, entry_id DESC LIMIT $5""", subject_id, actor, *after, limit)
    return [audit.Entry(r["at"], r["actor"], audit.Action(r["action"]), r["subject_id"], audit.Channel(r["channel"]),
                        r["command_id"], r["entry_id"]) for r in rows]
