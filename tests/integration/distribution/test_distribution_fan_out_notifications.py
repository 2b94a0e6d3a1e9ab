"""A new item's notifications wait by the item, one row per digest (ADR 0044): the notifier
walks its entries in key order, a pass at a time, each person once, and drops the row when
nothing is left; an entry another transaction holds is looked at again, never passed for good.

The people here read a daily or weekly digest: their notifications are due tomorrow or next
week, so the service's own notifier leaves them to the test, which claims as of eight days
from now."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from harness.kafka import eventually
from schemas.consent import Purpose
from services.distribution import store
from tests.integration.distribution import steps

ITEM = "item-walk-0001"
PEOPLE = [f"adv-walk-{n:04d}" for n in range(5)]


async def everyone_gets_the_item(distribution, people: list[str], digests: tuple[str, ...] = ("weekly",)) -> None:
    for n, person in enumerate(people):
        await distribution.join(person, languages=["de"], digest=digests[n % len(digests)])
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
    assert {n.item_id for n in due} <= {ITEM}
    return [n.advocate_id for n in due]


async def test_a_new_items_notifications_wait_by_the_item_and_are_claimed_in_passes_each_once(distribution):
    """Daily and weekly readers alternate in key order: the daily digest's row is due first,
    and its walk steps over the weekly readers' entries."""
    await everyone_gets_the_item(distribution, PEOPLE, digests=("daily", "weekly"))
    assert await distribution.count("feed") == len(PEOPLE)
    assert await distribution.count("feed WHERE due_at IS NOT NULL") == 0  # no entry of feed_due's
    waiting = await distribution.fetch("SELECT advocate_id, digest FROM waiting_notifications")
    assert sorted((r["advocate_id"], r["digest"]) for r in waiting) == [
        (p, ("daily", "weekly")[n % 2]) for n, p in enumerate(PEOPLE)]

    conn = await asyncpg.connect(distribution.settings.database_url)
    try:
        passes = [await claimed(conn, 2)]
        # The walk goes on from the last person it claimed, not from the item's first entry.
        assert await distribution.fetchval("SELECT sent_through FROM fan_out_notifications WHERE item_id = $1 "
                                           "AND digest = 'daily'", ITEM) == PEOPLE[2]
        passes += [await claimed(conn, 2) for _ in range(3)]
    finally:
        await conn.close()
    assert passes == [[PEOPLE[0], PEOPLE[2]], [PEOPLE[4], PEOPLE[1]], [PEOPLE[3]], []]
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


async def test_a_fan_out_whose_entries_are_all_held_does_not_hold_up_the_next(distribution):
    """A retraction deleting an item's entries holds them all until it commits; the pass
    leaves that item's walk for the next pass and goes on to the next item's."""
    await everyone_gets_the_item(distribution, PEOPLE[:3])
    await distribution.publish("item-walk-0002")
    await distribution.events("advocacy.distribution.item.distributed.v2", at_least=2)
    notifier, holder = [await asyncpg.connect(distribution.settings.database_url) for _ in range(2)]
    try:
        retracting = holder.transaction()
        await retracting.start()
        await holder.execute("DELETE FROM feed WHERE item_id = $1", ITEM)
        async with notifier.transaction():
            due = await store.claim_due_notifications(notifier, datetime.now(UTC) + timedelta(days=8), 10)
        await retracting.rollback()
    finally:
        await notifier.close()
        await holder.close()
    assert [(n.item_id, n.advocate_id) for n in due] == [("item-walk-0002", p) for p in PEOPLE[:3]]


async def test_two_passes_with_the_same_person_read_their_count_of_the_day_one_after_the_other(distribution):
    """Two notifier replicas walking two items' fan-outs claim the same people at once: the
    second reads a person's count of immediate notifications only after the first has
    counted what it sent, so the daily cap holds across replicas."""
    today = date.today()
    first, second = [await asyncpg.connect(distribution.settings.database_url) for _ in range(2)]
    try:
        await store.count_immediate_sent(first, today, {PEOPLE[1]: 1})  # one sent earlier today
        one, other = first.transaction(), second.transaction()
        await one.start()
        await other.start()
        assert await store.immediate_sent(first, today, [PEOPLE[0], PEOPLE[1]]) == {PEOPLE[0]: 0, PEOPLE[1]: 1}
        reading = asyncio.create_task(store.immediate_sent(second, today, [PEOPLE[1], PEOPLE[2]]))
        await eventually(lambda: steps.waiting_for_a_lock(distribution, second), what="the second pass waiting")
        await store.count_immediate_sent(first, today, {PEOPLE[1]: 1})
        await one.commit()
        assert await reading == {PEOPLE[1]: 2, PEOPLE[2]: 0}
        await other.rollback()
    finally:
        await first.close()
        await second.close()
