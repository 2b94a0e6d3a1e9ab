"""Changes that grow an audience, committing at the same moment, must not miss each other
(ADR 0033): a join and a yes of the same person, a yes and a fan-out, a join and a fan-out.

Each race is played with two transactions on two connections, through the handlers: the
first runs its handler and stays open; the second starts, and waits for it on the audience
lock (a fan-out), or finishes (a person's join and yes: the yes is left unplaced, for the
schedule); the first commits, then the second. READ COMMITTED reads each statement's
snapshot: before, neither saw the other's uncommitted row and the person's feed stayed empty.
"""

import asyncio

import asyncpg
import pytest

from schemas import directory
from services.distribution.handlers import DistributionHandlers
from services.runtime import directory as projection
from services.runtime.unit_of_work import UnitOfWork
from tests.integration.distribution.steps import (
    ANNA,
    BEN,
    ITEM,
    audience_locks_held_after,
    committed,
    consent,
    erase,
    feed_of,
    handlers_of,
    join,
    place_yeses,
    publish,
    race,
)


@pytest.mark.parametrize("join_first", [True, False], ids=["join-then-yes", "yes-then-join"])
async def test_a_join_and_the_persons_yes_at_the_same_moment_bring_what_is_active(distribution, join_first):
    await committed(distribution, publish(distribution, ITEM))
    steps = (join(distribution, ANNA), consent(distribution, ANNA))
    await race(distribution, *(steps if join_first else steps[::-1]))
    await committed(distribution, place_yeses)  # the schedule (the service's own may come first)
    assert await feed_of(distribution, ANNA) == [ITEM]
    assert await distribution.count("unplaced_yeses") == 0


async def test_a_yes_before_the_join_is_placed_by_the_join(distribution):
    await committed(distribution, publish(distribution, ITEM))
    await committed(distribution, consent(distribution, ANNA))
    assert await distribution.count("unplaced_yeses") == 1
    await committed(distribution, join(distribution, ANNA))
    assert await distribution.count("unplaced_yeses") == 0
    assert await feed_of(distribution, ANNA) == [ITEM]


@pytest.mark.parametrize("before", ["none", "a no"])
@pytest.mark.parametrize("yes_first", [True, False], ids=["yes-then-fan-out", "fan-out-then-yes"])
async def test_a_yes_racing_a_fan_out_gets_the_item(distribution, before, yes_first):
    """A first yes (a new consent row), or a yes after a no (whose committed row is not valid,
    so a fan-out reading it would pass it by)."""
    await committed(distribution, join(distribution, ANNA))
    if before == "a no":
        await committed(distribution, consent(distribution, ANNA, valid=False))
    steps = (consent(distribution, ANNA), publish(distribution, ITEM))
    await race(distribution, *(steps if yes_first else steps[::-1]))
    assert await feed_of(distribution, ANNA) == [ITEM]


@pytest.mark.parametrize("join_first", [True, False], ids=["join-then-fan-out", "fan-out-then-join"])
async def test_a_join_racing_a_fan_out_gets_the_item(distribution, join_first):
    await committed(distribution, consent(distribution, ANNA))  # her yes came first, on the consent topic
    steps = (join(distribution, ANNA), publish(distribution, ITEM))
    await race(distribution, *(steps if join_first else steps[::-1]))
    assert await feed_of(distribution, ANNA) == [ITEM]


async def test_what_changes_who_is_reached_takes_the_lock(distribution):
    """A first yes, a new person, a withdrawal, a fan-out and an erasure take the audience lock
    (ADR 0033, 0039); a yes again while receiving, and a join of someone known with the same reach, do
    not: they change nobody's reach."""
    assert await audience_locks_held_after(distribution, consent(distribution, ANNA)) == 1
    assert await audience_locks_held_after(distribution, consent(distribution, ANNA)) == 0  # again while receiving
    assert await audience_locks_held_after(distribution, consent(distribution, ANNA, valid=False)) == 1
    assert await audience_locks_held_after(distribution, join(distribution, ANNA)) == 1
    assert await audience_locks_held_after(distribution, join(distribution, ANNA)) == 0  # not new to the directory
    assert await audience_locks_held_after(distribution, publish(distribution, ITEM)) == 1
    assert await audience_locks_held_after(distribution, erase(ANNA)) == 1


async def test_joins_and_yeses_do_not_wait_for_each_other(distribution):
    """Only fan-outs wait for them (and they for fan-outs): a person's own join and yes
    neither (the yes is placed later, above)."""
    conn = await asyncpg.connect(distribution.settings.database_url)
    try:
        async with conn.transaction():
            await join(distribution, BEN)(handlers_of(distribution), UnitOfWork(conn, "/test"))
            await consent(distribution, ANNA)(handlers_of(distribution), UnitOfWork(conn, "/test"))
            await asyncio.wait_for(committed(distribution, consent(distribution, BEN)), timeout=10)
            await asyncio.wait_for(committed(distribution, join(distribution, ANNA)), timeout=10)
    finally:
        await conn.close()


async def test_a_yes_left_unplaced_is_forgotten_when_the_person_leaves_or_says_no(distribution):
    """Nothing kept about someone whose yes will never be placed (review M1)."""
    await committed(distribution, consent(distribution, ANNA))  # not in the directory yet: unplaced
    await committed(distribution, consent(distribution, BEN))
    assert await distribution.count("unplaced_yeses") == 2

    async def leaves(handlers: DistributionHandlers, uow: UnitOfWork) -> None:
        await handlers.leave(uow, directory.PersonLeft(source="/hr", subject=ANNA,
                                                      data=directory.Departure(advocate_id=ANNA)))

    await committed(distribution, leaves)
    await committed(distribution, consent(distribution, BEN, valid=False))
    assert await distribution.count("unplaced_yeses") == 0


async def test_a_yes_again_does_not_wait_for_a_join_forgetting_the_persons_unplaced_yes(distribution):
    """The join deletes the row, then its backfill waits for the yes's consent row: had the
    yes's insert of the row waited for that delete, the two would deadlock (review L1)."""
    await committed(distribution, consent(distribution, ANNA))  # unplaced
    conn = await asyncpg.connect(distribution.settings.database_url)
    try:
        async with conn.transaction():
            await conn.execute("DELETE FROM unplaced_yeses WHERE advocate_id = $1", ANNA)  # the join's first step
            await asyncio.wait_for(committed(distribution, consent(distribution, ANNA)), timeout=10)
    finally:
        await conn.close()


async def test_the_schedule_places_a_bounded_number_of_people_a_pass(distribution):
    """Each placed person's consent row is held until the pass commits (review M3)."""
    await committed(distribution, publish(distribution, ITEM))
    people = [f"adv-many-{n:04d}" for n in range(55)]
    for person in people:
        await committed(distribution, consent(distribution, person))

    async def joins_unseen_then_three_passes(handlers: DistributionHandlers, uow: UnitOfWork) -> list[int]:
        # The joins stay uncommitted until the passes are done: the service's own schedule
        # (every 0.2 s here) cannot see these people, so it cannot place them first.
        for person in people:  # as joins that committed with the yeses, neither seeing the other
            await projection.apply(uow, distribution.join_event(person, languages=["de"], digest="weekly"))
        return [await place_yeses(handlers, uow) for _ in range(3)]

    conn = await asyncpg.connect(distribution.settings.database_url)
    try:
        async with conn.transaction():
            passes = await joins_unseen_then_three_passes(handlers_of(distribution), UnitOfWork(conn, "/test"))
    finally:
        await conn.close()
    assert passes == [50, 5, 0]
    assert await distribution.count(f"feed WHERE item_id = '{ITEM}'") == 55
