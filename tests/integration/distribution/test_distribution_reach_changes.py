"""Whom an item reaches changes after its fan-out: a person's profile changes, an item's
audience changes, an item ends (ADR 0033). What reaches someone now reaches them, once;
what no longer should (a retracted item) is in nobody's feed, also when it races a yes.

Played through the handlers, each step in a transaction of its own (tests/.../steps.py).
"""

import pytest

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
