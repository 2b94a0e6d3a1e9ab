"""A new item's notifications wait by the item, one row per digest (ADR 0044): the notifier
walks its entries in key order, a pass at a time, each person once, and drops the row when
nothing is left; an entry another transaction holds is looked at again, never passed for good.

The people here read a weekly digest: their notifications are due next week, so the
service's own notifier leaves them to the test, which claims as of eight days from now."""

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from harness.kafka import eventually
from schemas.consent import Purpose
from services.distribution import store

ITEM = "item-walk-0001"
PEOPLE = [f"adv-walk-{n:04d}" for n in range(5)]


async def everyone_gets_the_item(distribution, people: list[str]) -> None:
    for person in people:
        await distribution.join(person, languages=["de"], digest="weekly")
        await distribution.consent(person, Purpose.RECEIVE_CONTENT)

    async def projected() -> bool:
        return await distribution.count("consents") == await distribution.count("people") == len(people)

    await eventually(projected, what="everyone projected")
    await distribution.publish(ITEM)
    await distribution.events("advocacy.distribution.item.distributed.v2")


async def claimed(conn: asyncpg.Connection, limit: int) -> list[str]:
    """One notifier pass, as of eight days from now, committed: who was claimed, in order."""
    async with conn.transaction():
        due = await store.claim_due_notifications(conn, datetime.now(UTC) + timedelta(days=8), limit)
    assert {(n.item_id, n.digest.value) for n in due} <= {(ITEM, "weekly")}
    return [n.advocate_id for n in due]


async def test_a_new_items_notifications_wait_by_the_item_and_are_claimed_in_passes_each_once(distribution):
    await everyone_gets_the_item(distribution, PEOPLE)
    assert await distribution.count("feed") == len(PEOPLE)
    assert await distribution.count("feed WHERE due_at IS NOT NULL") == 0  # no entry of feed_due's
    waiting = await distribution.fetch("SELECT advocate_id, digest FROM waiting_notifications")
    assert sorted((r["advocate_id"], r["digest"]) for r in waiting) == [(p, "weekly") for p in PEOPLE]

    conn = await asyncpg.connect(distribution.settings.database_url)
    try:
        passes = [await claimed(conn, 2) for _ in range(4)]
    finally:
        await conn.close()
    assert passes == [PEOPLE[0:2], PEOPLE[2:4], PEOPLE[4:], []]
    assert await distribution.count("waiting_notifications") == 0
    assert await distribution.count("fan_out_notifications WHERE item_id = $1", ITEM) == 0


@pytest.mark.parametrize("holder_ends", ["rolls back", "deletes it"])
async def test_an_entry_held_by_another_transaction_is_passed_by_and_looked_at_again(distribution, holder_ends):
    """The second person's entry is held (as a withdrawal's delete holds it) while a pass walks
    the item: the others are claimed and the walk's mark stays before the held one. If the
    holder rolls back, the next pass claims it; if it deleted the entry, there is nothing left."""
    await everyone_gets_the_item(distribution, PEOPLE[:3])
    notifier, holder = [await asyncpg.connect(distribution.settings.database_url) for _ in range(2)]
    try:
        holding = holder.transaction()
        await holding.start()
        await holder.execute("DELETE FROM feed WHERE advocate_id = $1", PEOPLE[1])
        first = await claimed(notifier, 10)
        await (holding.rollback() if holder_ends == "rolls back" else holding.commit())
        second, third = await claimed(notifier, 10), await claimed(notifier, 10)
    finally:
        await notifier.close()
        await holder.close()
    assert first == [PEOPLE[0], PEOPLE[2]]
    assert second == ([PEOPLE[1]] if holder_ends == "rolls back" else [])
    assert third == []
    assert await distribution.count("fan_out_notifications WHERE item_id = $1", ITEM) == 0
