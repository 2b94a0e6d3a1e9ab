"""Metrics keeps a visitor hash only while its day's clicks may still come in (review S9):
after VISITOR_HASH_DAYS each is replaced by a random id that links to nothing, and unique
clicks stay what they were."""

from datetime import UTC, datetime

from schemas.consent import Purpose
from services.metrics.handlers import VISITOR_HASH_DAYS
from tests.integration.metrics.conftest import DAY


async def impact(metrics, advocate: str) -> dict:
    """The sharer's own totals: exact, where a group report shows nothing of one person."""
    return (await metrics.read("/api/me/impact", metrics.token(advocate))).json()["totals"]


async def test_visitor_hashes_of_days_past_the_window_are_forgotten_and_unique_clicks_stay(metrics):
    assert (datetime.now(UTC) - DAY).days > VISITOR_HASH_DAYS  # DAY is long over
    [advocate] = await metrics.people(1, "Sales", Purpose.SHARE_ATTRIBUTION)
    shares = [metrics.share(advocate, "item-00000001") for _ in range(2)]
    clicks = [metrics.click(shares[0], visitor="a" * 32), metrics.click(shares[0], visitor="a" * 32),
              metrics.click(shares[0], visitor="b" * 32), metrics.click(shares[1], visitor="a" * 32),
              metrics.click(shares[1], visitor="c" * 32, at=datetime.now(UTC))]  # today: kept
    await metrics.send_to(metrics.topics.distribution_events, *shares, *clicks)
    await metrics.drained(metrics.topics.distribution_events)
    before = await impact(metrics, advocate)

    async with metrics.running():  # a replica starting runs the schedule's first pass at once
        await metrics.until("SELECT count(*) FROM clicks WHERE visitor NOT LIKE '#%'", 1,
                            what="the hashes of DAY replaced")
    rows = await metrics.fetch("SELECT share_id, day, visitor, clicks FROM clicks ORDER BY share_id, clicks")
    kept = [r["visitor"] for r in rows if not r["visitor"].startswith("#")]
    assert kept == ["c" * 32]
    forgotten = [r["visitor"] for r in rows if r["visitor"].startswith("#")]
    assert len(forgotten) == len(set(forgotten)) == 3  # one id per visitor counted, unrelated to the hash
    assert not {v.removeprefix("#") for v in forgotten} & {"a" * 32, "b" * 32}
    assert await impact(metrics, advocate) == before
    assert (before["clicks"], before["unique_clicks"]) == (5, 4)  # the shares of the period, all their clicks
