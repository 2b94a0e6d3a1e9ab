"""Curation's tables, through the connection of the unit of work in hand: what the
handlers write and the rows they lock. The API's reads are in queries.py."""

import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from schemas import curation
from schemas.curation import ItemContent, ItemStatus
from services.curation import audit
from services.curation.domain import Item, Revision, SentBack
from services.runtime.unit_of_work import Connection, Deferred, DeferredTable, write_rows

_SAVE_ITEM = """
INSERT INTO items (id, status, content, authors, source_url, campaign_id, publish_at, expire_at, published_at,
                   title_from_text, version, drafted_by, edited_by, submitted_by, revision, sent_back)
VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16::jsonb)
ON CONFLICT (id) DO UPDATE SET
    status = EXCLUDED.status, content = EXCLUDED.content, authors = EXCLUDED.authors,
    source_url = EXCLUDED.source_url, campaign_id = EXCLUDED.campaign_id,
    publish_at = EXCLUDED.publish_at, expire_at = EXCLUDED.expire_at,
    published_at = EXCLUDED.published_at, title_from_text = EXCLUDED.title_from_text,
    version = EXCLUDED.version, drafted_by = EXCLUDED.drafted_by, edited_by = EXCLUDED.edited_by,
    submitted_by = EXCLUDED.submitted_by, revision = EXCLUDED.revision, sent_back = EXCLUDED.sent_back,
    updated_at = now()"""
ITEM_COLUMNS = ("id, status, content, authors, published_at, title_from_text, version, drafted_by, edited_by, "
                "submitted_by, revision, sent_back")

# Due items, claimed so that a second replica skips them: each is moved once.
_PUBLISH_DUE = """
UPDATE items SET status = 'published', published_at = $1, updated_at = now() WHERE id IN (
    SELECT id FROM items WHERE status = 'scheduled' AND publish_at <= $1 AND (expire_at IS NULL OR expire_at > $1)
    ORDER BY publish_at LIMIT $2 FOR UPDATE SKIP LOCKED)
RETURNING id, content"""
# An expired item's pending revision goes with it: there is nothing left to revise.
_EXPIRE_DUE = """
UPDATE items SET status = 'expired', revision = NULL, updated_at = now() WHERE id IN (
    SELECT id FROM items WHERE status IN ('scheduled', 'published') AND expire_at <= $1
    ORDER BY expire_at LIMIT $2 FOR UPDATE SKIP LOCKED)
RETURNING id"""


def item_of(row: asyncpg.Record) -> Item:
    """The item of a row holding ITEM_COLUMNS."""
    revision = json.loads(row["revision"]) if row["revision"] else None
    sent_back = json.loads(row["sent_back"]) if row["sent_back"] else None
    return Item(
        row["id"], ItemStatus(row["status"]), ItemContent.model_validate_json(row["content"]),
        frozenset(row["authors"]), row["published_at"], row["title_from_text"], row["version"], row["drafted_by"],
        tuple(row["edited_by"]), row["submitted_by"],
        Revision(ItemContent.model_validate(revision["content"]), tuple(revision["authors"])) if revision else None,
        SentBack(sent_back["note"], sent_back["by"], sent_back["revision"]) if sent_back else None)


async def load_item(conn: Connection, item_id: str) -> Item | None:
    """The item, locked until the transaction ends: commands on one item run one at a time."""
    row = await conn.fetchrow(f"SELECT {ITEM_COLUMNS} FROM items WHERE id = $1 FOR UPDATE", item_id)
    return item_of(row) if row else None


async def save_item(conn: Connection, item: Item) -> None:
    c = item.content
    await conn.execute(
        _SAVE_ITEM, item.id, item.status.value, c.model_dump_json(), sorted(item.authors), c.source_url,
        c.campaign_id, c.publish_at, c.expire_at, item.published_at, item.title_from_text, item.version,
        item.drafted_by, list(item.edited_by), item.submitted_by, _revision_json(item.revision),
        _sent_back_json(item.sent_back))


def _revision_json(revision: Revision | None) -> str | None:
    if revision is None:
        return None
    return json.dumps({"content": revision.content.model_dump(mode="json"), "authors": list(revision.authors)})


def _sent_back_json(sent_back: SentBack | None) -> str | None:
    if sent_back is None:
        return None
    return json.dumps({"note": sent_back.note, "by": sent_back.by, "revision": sent_back.revision})


async def publish_due(conn: Connection, now: datetime, limit: int) -> list[tuple[str, ItemContent]]:
    rows = await conn.fetch(_PUBLISH_DUE, now, limit)
    return [(r["id"], ItemContent.model_validate_json(r["content"])) for r in rows]


async def expire_due(conn: Connection, now: datetime, limit: int) -> list[str]:
    return [r["id"] for r in await conn.fetch(_EXPIRE_DUE, now, limit)]


async def campaign_exists(conn: Connection, campaign_id: str) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = $1)", campaign_id))


async def save_campaign(conn: Connection, campaign: curation.Campaign, create: bool) -> bool:
    """Insert (create) or update; False if it already exists, or does not yet."""
    c = campaign
    values = (c.campaign_id, c.name, c.goal, c.starts_on, c.ends_on, c.topics, c.owner)
    if create:
        return await conn.fetchval(
            """INSERT INTO campaigns (id, name, goal, starts_on, ends_on, topics, owner)
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING true""", *values) is not None
    return await conn.fetchval(
        """UPDATE campaigns SET name = $2, goal = $3, starts_on = $4, ends_on = $5, topics = $6, owner = $7,
               updated_at = now() WHERE id = $1 RETURNING true""", *values) is not None


async def add_source(conn: Connection, source: curation.Source) -> bool:
    return await conn.fetchval(
        """INSERT INTO sources (id, url, language, content_type, topics) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT DO NOTHING RETURNING true""",
        source.source_id, source.url, source.language, source.content_type.value, source.topics,
    ) is not None


@dataclass(frozen=True)
class DueSource:
    source: curation.Source
    etag: str | None  # validators of the last fetch, for a conditional one
    last_modified: str | None


async def claim_due_source(conn: Connection, now: datetime, every_seconds: float) -> DueSource | None:
    """One active source not polled for `every_seconds`, locked so no other replica polls it too."""
    row = await conn.fetchrow(
        """SELECT id, url, language, content_type, topics, etag, last_modified FROM sources
           WHERE status = 'active'
             AND (last_polled_at IS NULL OR last_polled_at <= $1::timestamptz - make_interval(secs => $2::float8))
           ORDER BY last_polled_at NULLS FIRST LIMIT 1 FOR UPDATE SKIP LOCKED""", now, every_seconds)
    if row is None:
        return None
    source = curation.Source(source_id=row["id"], url=row["url"], language=row["language"],
                             content_type=row["content_type"], topics=row["topics"])
    return DueSource(source, row["etag"], row["last_modified"])


async def record_poll(conn: Connection, source_id: str, at: datetime, error: str | None,
                      etag: str | None = None, last_modified: str | None = None) -> None:
    await conn.execute(
        """UPDATE sources SET last_polled_at = $2, last_error = $3, etag = $4, last_modified = $5 WHERE id = $1""",
        source_id, at, error, etag, last_modified)


async def source_status(conn: Connection, source_id: str) -> curation.SourceStatus | None:
    """The source's status, locked until the transaction ends; None if there is no such source."""
    status = await conn.fetchval("SELECT status FROM sources WHERE id = $1 FOR UPDATE", source_id)
    return curation.SourceStatus(status) if status else None


async def set_source_status(conn: Connection, source_id: str, status: curation.SourceStatus) -> None:
    await conn.execute("UPDATE sources SET status = $2 WHERE id = $1", source_id, status.value)


async def record_refusal(conn: Connection, source_id: str, entry_id: str, reason: str, at: datetime) -> bool:
    """True the first time this entry of this source is refused; False once recorded."""
    return await conn.fetchval(
        """INSERT INTO feed_refusals (source_id, entry_id, reason, refused_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING RETURNING true""", source_id, entry_id, reason, at) is not None


AUDIT = DeferredTable("audit", (("at", "timestamptz"), ("actor", "text"), ("action", "text"), ("subject_id", "text"),
                                 ("channel", "text"), ("command_id", "text")))


async def record_action(conn: Connection, entry: audit.Entry, deferred: Deferred | None = None) -> None:
    """The audit trail's entry; with `deferred` (the unit of work's) written at its flush, with
    the outbox rows: nothing in a command's transaction reads the trail."""
    await write_rows(conn, AUDIT, [(entry.at, entry.actor, entry.action.value, entry.subject_id, entry.channel.value,
                                    entry.command_id)], deferred)


ERASED = "erased"  # who an erased person's actions are recorded as
_FORGET_ACTOR = [
    "UPDATE audit SET actor = $2 WHERE actor = $1",
    "UPDATE campaigns SET owner = $2 WHERE owner = $1",
    """UPDATE items SET
           authors = array_replace(authors, $1, $2), edited_by = array_replace(edited_by, $1, $2),
           drafted_by = CASE WHEN drafted_by = $1 THEN $2 ELSE drafted_by END,
           submitted_by = CASE WHEN submitted_by = $1 THEN $2 ELSE submitted_by END,
           revision = CASE WHEN revision->'authors' ? $1 THEN jsonb_set(revision, '{authors}', (
               SELECT jsonb_agg(CASE WHEN a = $1 THEN $2 ELSE a END)
               FROM jsonb_array_elements_text(revision->'authors') AS a)) ELSE revision END,
           sent_back = CASE WHEN sent_back->>'by' = $1 THEN jsonb_set(sent_back, '{by}', to_jsonb($2::text))
                       ELSE sent_back END
       WHERE $1 = ANY(authors) OR $1 = ANY(edited_by) OR drafted_by = $1 OR submitted_by = $1
          OR revision->'authors' ? $1 OR sent_back->>'by' = $1""",
]


async def forget_actor(conn: Connection, advocate_id: str) -> None:
    """An erased person's id, wherever curation keeps it (items' authors, campaigns'
    owners, the audit trail), becomes ERASED: what they did stays recorded, not who did it."""
    for statement in _FORGET_ACTOR:
        await conn.execute(statement, advocate_id, ERASED)


async def record_entry(conn: Connection, source_id: str, entry_id: str, url: str, item_id: str) -> None:
    await conn.execute("INSERT INTO feed_entries (source_id, entry_id, url, item_id) VALUES ($1, $2, $3, $4)",
                       source_id, entry_id, url, item_id)


async def entry_known(conn: Connection, source_id: str, entry_id: str, url: str) -> bool:
    return bool(await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM feed_entries WHERE (source_id = $1 AND entry_id = $2) OR url = $3)
           OR EXISTS (SELECT 1 FROM items WHERE source_url = $3)""", source_id, entry_id, url))

