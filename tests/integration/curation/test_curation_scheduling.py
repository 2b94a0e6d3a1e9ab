"""Scheduling on the real stack: an item is published at `publish_at` and expired at
`expire_at` from the database, across a restart and with two replicas, each exactly once."""

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest
from pydantic import ValidationError

from harness.kafka import eventually
from schemas import curation as c
from services.curation import store
from services.curation.app import MIGRATIONS
from services.runtime.migrate import RUNTIME_MIGRATIONS, migrate
from tests.integration.curation.curation_rig import about, command, content
from tests.integration.rig import NOW

ITEM = "item-scheduled-1"
LATE = "item-too-late-1"


async def release(curation, item_id: str, **changes) -> None:
    """Drafted and submitted by a content system on Kafka, approved by a signed-in approver,
    released on Kafka."""
    await curation.send(command(c.DraftItem, item_id, "editor-a", content=content(**changes)),
                        command(c.SubmitItem, item_id, "editor-a"))
    await curation.approve_once_in_review(item_id, "editor-b")
    await curation.send(command(c.PublishItem, item_id, "editor-b"))


async def test_a_scheduled_item_is_published_and_expired_once_across_a_restart_and_two_replicas(curation):
    publish_at, expire_at = NOW.replace(hour=14), NOW.replace(hour=18)
    async with curation.serving():
        await release(curation, ITEM, publish_at=publish_at, expire_at=expire_at)
        events = await curation.events(at_least=4, settle=0.5)
        assert about(events, ITEM) == ["drafted", "submitted", "approved", "scheduled"]
        assert events[-1].data.publish_at == publish_at
        curation.clock.advance(hours=1)  # 13:00: not due yet
        await asyncio.sleep(0.5)
    assert about(await curation.events(at_least=4), ITEM)[-1] == "scheduled"

    curation.clock.advance(hours=2)  # 15:00, while no instance runs
    first, second = curation.build(), curation.build()
    async with first.running(), second.running():
        await eventually(lambda: _status_is("published", curation), what="publication")
        curation.clock.advance(hours=4)  # 19:00
        await eventually(lambda: _status_is("expired", curation), what="expiry")
        await asyncio.sleep(0.5)  # a second publication or expiry would be emitted now
    events = await curation.events(at_least=6, settle=1.0)

    assert about(events, ITEM) == ["drafted", "submitted", "approved", "scheduled", "published", "expired"]
    published, expired = events[-2:]
    assert published.data == c.PublishedItem(item_id=ITEM, content=content(publish_at=publish_at, expire_at=expire_at),
                                             published_at=NOW.replace(hour=15))
    assert expired.data.expired_at == NOW.replace(hour=19)


async def test_a_scheduled_item_whose_expiry_passed_before_publication_is_expired_unpublished(curation):
    async with curation.serving():
        await release(curation, LATE, publish_at=NOW.replace(hour=13), expire_at=NOW.replace(hour=14))
        await curation.events(at_least=4)
        curation.clock.advance(hours=3)
        await eventually(lambda: _status_is("expired", curation, LATE), what="expiry")
    events = await curation.events(at_least=5, settle=0.5)

    assert about(events, LATE) == ["drafted", "submitted", "approved", "scheduled", "expired"]


async def test_the_expiry_query_can_use_its_partial_index(curation):
    """The index must cover every status the query claims (scheduled and published), or the
    planner cannot use it and each pass scans the whole table."""
    conn = await asyncpg.connect(curation.settings.database_url)
    try:
        await migrate(conn, {"runtime": RUNTIME_MIGRATIONS, curation.settings.service: MIGRATIONS})
        await conn.execute("SET enable_seqscan = off")  # what a large table would make the planner do
        plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {store._EXPIRE_DUE}", NOW, 200))
    finally:
        await conn.close()
    assert "items_due_to_expire" in plan, plan


async def _status_is(status: str, curation, item_id: str = ITEM) -> bool:
    rows = await curation.fetch("SELECT status FROM items WHERE id = $1", item_id)
    return bool(rows) and rows[0]["status"] == status


async def test_an_item_stored_with_times_outside_the_contracts_range_is_read_and_published_after_migration(curation):
    """Before ADR 0037 an item could be stored with, say, an expiry in 9999; read back through
    the bounded contract it failed every command and, once due, the publishing job at every
    pass. Migration 006 moves such times to the nearest end of the range: the same meaning."""
    async with curation.serving():
        await release(curation, ITEM, publish_at=NOW.replace(hour=14), expire_at=NOW.replace(hour=18))
        await curation.events(at_least=4)
    conn = await asyncpg.connect(curation.settings.database_url)
    try:
        await conn.execute("""UPDATE items SET publish_at = '0001-01-01Z', expire_at = '9999-12-31T23:00:00-05:00',
                              content = content || '{"publish_at": "0001-01-01T00:00:00Z",
                                                     "expire_at": "9999-12-31T23:00:00-05:00"}' WHERE id = $1""", ITEM)
        [row] = await conn.fetch(f"SELECT {store.ITEM_COLUMNS} FROM items WHERE id = $1", ITEM)
        with pytest.raises(ValidationError):
            store.item_of(row)
        async with conn.transaction():
            await conn.execute((MIGRATIONS / "006_instants_in_the_contracts_range.sql").read_text())
        [row] = await conn.fetch(f"SELECT {store.ITEM_COLUMNS}, publish_at, expire_at FROM items WHERE id = $1", ITEM)
    finally:
        await conn.close()
    content_now = store.item_of(row).content
    assert content_now.publish_at == row["publish_at"] == datetime(1970, 1, 1, tzinfo=UTC)
    assert content_now.expire_at == row["expire_at"] == datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    async with curation.serving():  # publish_at is long past: due at once
        await eventually(lambda: _status_is("published", curation), what="publication")
