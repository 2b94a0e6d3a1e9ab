"""Whom an item reaches changes after its fan-out: a person's profile changes, an item's
audience changes, an item ends (ADR 0033). What reaches someone now reaches them, once;
what no longer should (a retracted item) is in nobody's feed, also when it races a yes.

Played through the handlers, each step in a transaction of its own (tests/.../steps.py).
"""

import pytest

from services.runtime.unit_of_work import UnitOfWork
from tests.integration.distribution.steps import (
    ANNA,
    BEN,
    ITEM,
    audience_locks_held_after,
    change,
    committed,
    consent,
    feed_of,
    join,
    place_yeses,
    publish,
    race,
    retract,
    update,
)

FOR_SALES = {"audience": {"org_units": ["sales"]}}
FOR_SALES_AND_HR = {"audience": {"org_units": ["sales", "hr"]}}


async def test_a_change_that_moves_someone_into_an_audience_brings_what_is_active(distribution):
    await committed(distribution, join(distribution, ANNA, org_unit="hr"))
    await committed(distribution, consent(distribution, ANNA))
    await committed(distribution, publish(distribution, ITEM, **FOR_SALES))
    assert await feed_of(distribution, ANNA) == []
    await committed(distribution, change(distribution, ANNA, org_unit="sales"))
    assert await feed_of(distribution, ANNA) == [ITEM]


async def test_a_change_brings_nothing_to_someone_without_a_yes(distribution):
    await committed(distribution, join(distribution, ANNA, org_unit="hr"))
    await committed(distribution, publish(distribution, ITEM, **FOR_SALES))
    await committed(distribution, change(distribution, ANNA, org_unit="sales"))
    assert await feed_of(distribution, ANNA) == []


async def test_only_a_change_of_what_decides_reach_takes_the_lock(distribution):
    """A digest or networks change cannot bring anyone into an audience: no lock, no backfill."""
    await committed(distribution, join(distribution, ANNA, org_unit="hr"))
    assert await audience_locks_held_after(distribution, change(distribution, ANNA, org_unit="hr",
                                                                digest="daily")) == 0
    assert await audience_locks_held_after(distribution, change(distribution, ANNA, org_unit="hr",
                                                                networks=["linkedin"])) == 0
    for moved in ({"org_unit": "sales"}, {"location": "Graz"}, {"languages": ["de", "en"]},
                  {"interests": ["energy"]}, {"role": "partner"}):
        assert await audience_locks_held_after(distribution, change(distribution, ANNA, **{
            "org_unit": "hr", **moved})) == 1, moved


async def test_a_change_that_only_reorders_languages_or_interests_takes_no_lock(distribution):
    """`_REACHES` reads them as sets: a profile resent in another order brings nothing."""
    await committed(distribution, join(distribution, ANNA, languages=["de", "en"], interests=["energy", "jobs"]))
    assert await audience_locks_held_after(distribution, change(distribution, ANNA, languages=["en", "de"],
                                                                interests=["jobs", "energy"])) == 0


@pytest.mark.parametrize("change_first", [True, False], ids=["change-then-yes", "yes-then-change"])
async def test_a_change_racing_the_persons_first_yes_gets_the_item(distribution, change_first):
    """Neither waits for the audience lock (both shared): a yes that finds the profile being
    changed leaves itself unplaced for the schedule; one that came first holds the profile,
    and the change's backfill, after it, sees the yes."""
    await committed(distribution, join(distribution, ANNA, org_unit="hr"))
    await committed(distribution, publish(distribution, ITEM, **FOR_SALES))
    steps = (change(distribution, ANNA, org_unit="sales"), consent(distribution, ANNA))
    await race(distribution, *(steps if change_first else steps[::-1]))
    await committed(distribution, place_yeses)  # the schedule (the service's own may come first)
    assert await feed_of(distribution, ANNA) == [ITEM]
    assert await distribution.count("unplaced_yeses") == 0


@pytest.mark.parametrize("change_first", [True, False], ids=["change-then-fan-out", "fan-out-then-change"])
async def test_a_change_racing_a_fan_out_gets_the_item(distribution, change_first):
    await committed(distribution, join(distribution, ANNA, org_unit="hr"))
    await committed(distribution, consent(distribution, ANNA))
    steps = (change(distribution, ANNA, org_unit="sales"), publish(distribution, ITEM, **FOR_SALES))
    await race(distribution, *(steps if change_first else steps[::-1]))
    assert await feed_of(distribution, ANNA) == [ITEM]


async def test_an_update_whose_audience_grows_reaches_the_new_part_and_counts_it(distribution):
    for person, unit in ((ANNA, "sales"), (BEN, "hr")):
        await committed(distribution, join(distribution, person, org_unit=unit))
        await committed(distribution, consent(distribution, person))
    await committed(distribution, publish(distribution, ITEM, **FOR_SALES))
    first = await distribution.fetchval("SELECT delivered_at FROM feed WHERE advocate_id = $1", ANNA)
    await committed(distribution, update(distribution, ITEM, **FOR_SALES_AND_HR))
    assert await feed_of(distribution, BEN) == [ITEM]
    assert await distribution.fetchval("SELECT delivered_at FROM feed WHERE advocate_id = $1", ANNA) == first
    assert await distribution.fetchval("SELECT reached FROM item_reach WHERE item_id = $1", ITEM) == 2


async def test_an_update_that_changes_no_reach_fans_out_nothing(distribution):
    await committed(distribution, publish(distribution, ITEM, **FOR_SALES))
    assert await audience_locks_held_after(distribution, update(distribution, ITEM, title="A new title",
                                                                **FOR_SALES)) == 0
    assert await audience_locks_held_after(distribution, update(distribution, ITEM, **FOR_SALES_AND_HR)) == 1


async def test_an_update_that_only_reorders_the_audience_fans_out_nothing(distribution):
    await committed(distribution, publish(distribution, ITEM, audience={"org_units": ["sales", "hr"]}))
    assert await audience_locks_held_after(distribution, update(distribution, ITEM,
                                                                audience={"org_units": ["hr", "sales"]})) == 0


async def test_an_update_of_an_item_never_published_here_is_distributed_as_one(distribution):
    """Its publication lost (or to be replayed): partners are told its audience, k-anonymously."""
    people = [f"adv-person-{n:04d}" for n in range(6)]  # k = 5 in the fixture
    for person in people:
        await committed(distribution, join(distribution, person))
        await committed(distribution, consent(distribution, person))
    await committed(distribution, update(distribution, ITEM))
    reach = await distribution.fetch("SELECT reached, announced FROM item_reach WHERE item_id = $1", ITEM)
    assert [tuple(r) for r in reach] == [(6, 6)]
    assert await distribution.count(f"feed WHERE item_id = '{ITEM}'") == 6


async def test_an_update_that_narrows_the_audience_leaves_what_was_delivered(distribution):
    await committed(distribution, join(distribution, BEN, org_unit="hr"))
    await committed(distribution, consent(distribution, BEN))
    await committed(distribution, publish(distribution, ITEM, **FOR_SALES_AND_HR))
    await committed(distribution, update(distribution, ITEM, **FOR_SALES))
    assert await feed_of(distribution, BEN) == [ITEM]


async def test_an_update_of_a_retracted_item_reaches_nobody(distribution):
    await committed(distribution, join(distribution, BEN, org_unit="hr"))
    await committed(distribution, consent(distribution, BEN))
    await committed(distribution, publish(distribution, ITEM, **FOR_SALES))
    await committed(distribution, retract(ITEM))
    await committed(distribution, update(distribution, ITEM, **FOR_SALES_AND_HR))
    assert await feed_of(distribution, BEN) == []


@pytest.mark.parametrize("yes_first", [True, False], ids=["yes-then-retraction", "retraction-then-yes"])
async def test_a_retraction_racing_a_yes_leaves_the_item_in_no_feed(distribution, yes_first):
    """Before, the retraction's delete did not see the backfill's uncommitted entry, which
    had seen the item active: the entry stayed, with its waiting notification."""
    await committed(distribution, join(distribution, ANNA))
    await committed(distribution, publish(distribution, ITEM))
    steps = (consent(distribution, ANNA), retract(ITEM))
    await race(distribution, *(steps if yes_first else steps[::-1]))
    assert await feed_of(distribution, ANNA) == []


@pytest.mark.parametrize("yes_first", [True, False], ids=["yes-again-then-retraction", "retraction-then-yes-again"])
async def test_a_retraction_racing_a_yes_again_leaves_the_item_in_no_feed(distribution, yes_first):
    """A yes again brings nothing (every fan-out since the first yes reached them); before, its
    backfill saw the item active and wrote its entry again once the retraction's delete
    committed."""
    await committed(distribution, join(distribution, ANNA))
    await committed(distribution, consent(distribution, ANNA))
    await committed(distribution, publish(distribution, ITEM))
    steps = (consent(distribution, ANNA), retract(ITEM))
    await race(distribution, *(steps if yes_first else steps[::-1]))
    assert await feed_of(distribution, ANNA) == []


async def test_a_retraction_racing_the_schedule_placing_a_yes_leaves_the_item_in_no_feed(distribution):
    await committed(distribution, publish(distribution, ITEM))
    await committed(distribution, consent(distribution, ANNA))  # not in the directory yet: unplaced

    async def joined_unseen_then_placed(handlers, uow: UnitOfWork) -> int:
        # Her join, committed without seeing the yes, is written here as it left the row (by
        # hand: the join's handler takes the audience lock itself), in the transaction of the
        # schedule's pass, so that the service's own schedule cannot place her first.
        await uow.conn.execute("""INSERT INTO people (advocate_id, role, languages, interests, digest, networks, as_of)
                                  VALUES ($1, 'employee', '{de}', '{}', 'weekly', '{}', now())""", ANNA)
        return await place_yeses(handlers, uow)

    await race(distribution, joined_unseen_then_placed, retract(ITEM))
    assert await feed_of(distribution, ANNA) == []
