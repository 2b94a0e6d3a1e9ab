"""Weeks kept as released (ADR 0023): a week that is over is decided once and its cells
kept, so a report over a year reads those rows instead of deciding every week again. What
is kept tells what deciding the week from its shares and clicks tells; a change after the
release is counted at once (the week is due, and reports decide it) and released again."""

from datetime import date

import asyncpg
import pytest

from schemas.consent import Purpose
from services.metrics import reports
from services.metrics.app import build_service
from services.metrics.config import MetricsSettings, MetricsTopics
from tests.integration.metrics.conftest import DAY, MetricsRig, new_id
from tests.integration.rig import make_rig

WEEK = date(2026, 3, 2)  # DAY's week, over long ago
KEPT = "SELECT count(*) FROM week_releases r WHERE week = $1 AND NOT EXISTS (SELECT 1 FROM weeks_due d WHERE d.week = r.week)"


@pytest.fixture
async def metrics(stack, scratch_schema, make_topics, issuer):
    """Metrics whose weeks, once released, are released again only an hour after: what a
    report says meanwhile is decided."""
    async with make_rig(MetricsRig, stack, scratch_schema, make_topics, build_service, MetricsSettings, MetricsTopics,
                        identity=issuer.settings(), snapshot_seconds=0.2, release_seconds=3600, ingest_batch_size=500) as rig:
        rig.issuer = issuer
        async with rig.serving():
            yield rig


async def shared_week(metrics, people: int = 6):
    """`people` people (k = 5) share one item of a campaign on linkedin and another on x in
    WEEK, each share clicked once; returns the campaign and the shares."""
    campaign = new_id("camp")
    await metrics.campaign(campaign)
    await metrics.item("item-00000001", "Join our plant", campaign, topics=("jobs", "plant"))
    await metrics.item("item-00000002", "Our new line", campaign)
    ids = await metrics.people(people, "Sales", Purpose.SHARE_ATTRIBUTION)
    shares = [metrics.share(a, item, network, campaign) for a in ids
              for item, network in (("item-00000001", "linkedin"), ("item-00000002", "x"))]
    await metrics.send_to(metrics.topics.distribution_events, *shares, *(metrics.click(s) for s in shares))
    await metrics.drained(metrics.topics.distribution_events, metrics.topics.curation_events)
    return campaign, shares


async def test_what_is_kept_of_a_released_week_is_what_deciding_it_again_tells(metrics):
    campaign, _ = await shared_week(metrics)
    await metrics.until(KEPT, 1, WEEK, what="the week released")

    conn = await asyncpg.connect(metrics.settings.database_url)
    try:
        kept = reports.Release.kept(await conn.fetch("SELECT * FROM week_cells WHERE week = $1", WEEK))
        decided = await reports.decide(conn, [WEEK], metrics.settings.k_anonymity)
    finally:
        await conn.close()
    expected = {cell: networks for cell, networks in decided.values[WEEK].items()
                if cell.campaign is not None and cell.key is not None}
    assert kept.values[WEEK] == expected and expected
    assert kept.shown[WEEK] == {cell: decided.shown[WEEK][cell] for cell in expected}
    assert any(kept.shown[WEEK].values()), "with 6 people, some figures are shown"
    report = await metrics.report_json(campaign_id=campaign)
    assert report["totals"]["shares"] == 12 and report["totals"]["clicks"] == 12


async def test_a_click_after_the_release_counts_at_once_and_the_week_stays_due_until_released_again(metrics):
    campaign, shares = await shared_week(metrics)
    await metrics.until(KEPT, 1, WEEK, what="the week released")
    assert (await metrics.report_json(campaign_id=campaign))["totals"]["clicks"] == 12

    await metrics.send_to(metrics.topics.distribution_events, metrics.click(shares[0], "v2", at=DAY))
    await metrics.drained(metrics.topics.distribution_events)

    assert await metrics.count("weeks_due WHERE week = $1", WEEK) == 1  # released an hour after the last time
    assert await metrics.fetchval("SELECT clicks FROM week_cells WHERE week = $1 AND campaign = '*' AND dimension = 'total'"
                                  " AND network = 'linkedin'", WEEK) == 6  # what is kept is as released
    report = await metrics.report_json(campaign_id=campaign)
    assert report["totals"]["clicks"] == 13
    assert {n["network"]: n["clicks"] for n in report["by_network"]} == {"linkedin": 7, "x": 6}
