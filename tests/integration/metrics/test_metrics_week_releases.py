"""Weeks kept as released (ADR 0023): a week that is over is decided once and its cells
kept, so a report over a year reads those rows instead of deciding every week again. What
is kept tells what deciding the week from its shares and clicks tells. A change after the
release makes the week due: reports tell it from its release until the next one (at most
twice RELEASE_SECONDS), or decide it from its rows once that is past."""

from datetime import date

import asyncpg
import pytest

from schemas import distribution
from schemas.consent import Purpose
from services.metrics import reports, store
from services.metrics.app import build_service
from services.metrics.config import MetricsSettings, MetricsTopics
from services.metrics.domain import Totals
from tests.integration.metrics.conftest import DAY, MetricsRig, new_id
from tests.integration.rig import make_rig

WEEK = date(2026, 3, 2)  # DAY's week, over long ago
KEPT = "SELECT count(*) FROM week_releases r WHERE week = $1 AND NOT EXISTS (SELECT 1 FROM weeks_due d WHERE d.week = r.week)"
LINKEDIN_CLICKS_KEPT = """SELECT clicks FROM week_cells WHERE week = $1 AND campaign = '*' AND dimension = 'total'
                          AND network = 'linkedin'"""


@pytest.fixture
async def resting(stack, scratch_schema, make_topics, issuer):
    """Metrics whose weeks, once released, are released again only an hour after a change."""
    async with make_rig(MetricsRig, stack, scratch_schema, make_topics, build_service, MetricsSettings, MetricsTopics,
                        identity=issuer.settings(), snapshot_seconds=0.2, release_seconds=3600,
                        ingest_batch_size=500) as rig:
        rig.issuer = issuer
        async with rig.serving():
            yield rig


async def shared_week(metrics, people: int = 6):
    """`people` people of Sales (k = 5) share one item of a campaign on linkedin and another
    on x in WEEK, and one person of Legal the first on linkedin; each share clicked once.
    Returns the campaign and the shares, once WEEK is released."""
    campaign = new_id("camp")
    await metrics.campaign(campaign)
    await metrics.item("item-00000001", "Join our plant", campaign, topics=("jobs", "plant"))
    await metrics.item("item-00000002", "Our new line", campaign)
    ids = await metrics.people(people, "Sales", Purpose.SHARE_ATTRIBUTION)
    lone = await metrics.people(1, "Legal", Purpose.SHARE_ATTRIBUTION)
    shares = [metrics.share(a, item, network, campaign) for a in ids
              for item, network in (("item-00000001", "linkedin"), ("item-00000002", "x"))]
    shares.append(metrics.share(lone[0], "item-00000001", "linkedin", campaign))
    await metrics.send_to(metrics.topics.distribution_events, *shares, *(metrics.click(s) for s in shares))
    await metrics.drained(metrics.topics.distribution_events, metrics.topics.curation_events)
    await metrics.until(KEPT, 1, WEEK, what="the week released")
    return campaign, shares


async def test_what_is_kept_of_a_released_week_is_what_deciding_it_again_tells(resting):
    campaign, _ = await shared_week(resting)

    conn = await asyncpg.connect(resting.settings.database_url)
    try:
        kept = reports.Release.kept(await conn.fetch("SELECT * FROM week_cells WHERE week = $1", WEEK))
        decided = await reports.decide(conn, [WEEK], resting.settings.k_anonymity)
    finally:
        await conn.close()
    cells = {cell for cell in decided.values[WEEK] if cell.campaign is not None and cell.key is not None}
    assert kept.shown[WEEK] == {cell: decided.shown[WEEK][cell] for cell in cells}
    shown = {cell for cell in cells if kept.shown[WEEK][cell]}
    assert shown and shown != cells, "Legal's one person is not shown, nor what would tell them apart"
    assert {cell: kept.values[WEEK][cell] for cell in shown} == {cell: decided.values[WEEK][cell] for cell in shown}
    # What may not be shown is kept as a cell without figures: nothing about a small group is stored.
    assert all(t == Totals() for cell in cells - shown for t in kept.values[WEEK][cell].values())
    report = await resting.report_json(campaign_id=campaign)
    assert report["totals"]["shares"] == 13 and report["totals"]["clicks"] == 13


async def test_a_week_changed_after_its_release_is_told_from_its_release_until_released_again(resting):
    campaign, shares = await shared_week(resting)
    assert (await resting.report_json(campaign_id=campaign))["totals"]["clicks"] == 13

    await resting.send_to(resting.topics.distribution_events, resting.click(shares[0], "v2", at=DAY))
    await resting.drained(resting.topics.distribution_events)

    assert await resting.count("clicks") == 14
    assert await resting.count("weeks_due WHERE week = $1", WEEK) == 1  # released again an hour after the last time
    assert await resting.fetchval(LINKEDIN_CLICKS_KEPT, WEEK) == 7
    assert (await resting.report_json(campaign_id=campaign))["totals"]["clicks"] == 13


async def test_once_the_release_is_past_its_time_a_change_is_counted_at_once(metrics):
    campaign, shares = await shared_week(metrics)  # released again at once after a change (RELEASE_SECONDS 0)

    await metrics.send_to(metrics.topics.distribution_events, metrics.click(shares[0], "v2", at=DAY))
    await metrics.drained(metrics.topics.distribution_events)

    report = await metrics.report_json(campaign_id=campaign)
    assert report["totals"]["clicks"] == 14
    assert {n["network"]: n["clicks"] for n in report["by_network"]} == {"linkedin": 8, "x": 6}


async def test_an_item_whose_topics_change_makes_the_weeks_of_its_shares_due_and_one_that_keeps_them_does_not(resting):
    campaign, _ = await shared_week(resting)

    await resting.item("item-00000001", "Join our plant (new title)", campaign, topics=("jobs", "plant"))
    await resting.drained(resting.topics.curation_events)
    assert await resting.count("weeks_due WHERE week = $1", WEEK) == 0

    await resting.item("item-00000001", "Join our plant", campaign, topics=("jobs", "factory"))
    await resting.drained(resting.topics.curation_events)
    assert await resting.count("weeks_due WHERE week = $1", WEEK) == 1


async def test_a_share_cancelled_after_the_release_and_a_counter_reported_make_the_week_due(resting):
    _, shares = await shared_week(resting)
    s = shares[0].data
    cancel = distribution.ShareCancelled(source="/advocacy/distribution", subject=s.share_id, data=distribution.ShareEnded(
        share_id=s.share_id, item_id=s.item_id, network=s.network, reason=distribution.CancellationReason.ITEM_RETRACTED))
    await resting.send_to(resting.topics.distribution_events, cancel)
    await resting.drained(resting.topics.distribution_events)
    assert await resting.count("weeks_due WHERE week = $1", WEEK) == 1

    await resting.fetch("DELETE FROM weeks_due RETURNING week")  # as if released again meanwhile
    await resting.send_to(resting.topics.engagement, resting.observed(shares[1], impressions=500))
    await resting.drained(resting.topics.engagement)
    assert await resting.count("weeks_due WHERE week = $1", WEEK) == 1


async def test_a_share_this_process_has_not_seen_is_looked_up_to_mark_its_item_and_week_due(resting):
    """As after a restart: the shares were stored by another process (or before it started)."""
    campaign, shares = await shared_week(resting)
    conn = await asyncpg.connect(resting.settings.database_url)
    try:
        # One transaction: the service's snapshot pass (every 0.2 s) must not claim the marks
        # before they are read (it did on a slow host).
        async with conn.transaction():
            await conn.execute("DELETE FROM weeks_due")
            await conn.execute("DELETE FROM snapshot_due")
            weeks = store.ShareWeeks()
            await store.mark_due(conn, [shares[0].data.share_id, "share-never-stored"], weeks)
            assert await conn.fetchval("SELECT array_agg(week) FROM weeks_due") == [WEEK]
            assert set(await conn.fetch("SELECT scope, id FROM snapshot_due")) == {
                ("item", "item-00000001"), ("campaign", campaign)}
        assert weeks.of([shares[0].data.share_id])[1] == []  # learnt
    finally:
        await conn.close()
