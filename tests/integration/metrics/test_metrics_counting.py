"""Counting: each share and click once however often it is delivered; cumulative counters
keep their highest value; bad input is dead-lettered with its reason."""

import json
from datetime import UTC, date, datetime, timedelta

import asyncpg

from harness.kafka import produce, read_topic
from schemas import engagement
from schemas.consent import Purpose
from services.metrics import store
from services.metrics.app import MIGRATIONS
from services.runtime.packed import pack_rows
from tests.integration.metrics.conftest import DAY, new_id


async def totals(metrics, advocate: str) -> dict:
    """The figures of `advocate`'s own shares, as exact as the group reports' are, which show
    nothing of one person (ADR 0020)."""
    response = await metrics.read("/api/me/impact", metrics.token(advocate))
    assert response.status_code == 200, response.text
    return response.json()["totals"]


async def sharer(metrics) -> str:
    [advocate] = await metrics.people(1, "Sales", Purpose.SHARE_ATTRIBUTION)
    return advocate


async def test_shares_and_clicks_are_counted_once_when_delivered_again(metrics):
    advocate = await sharer(metrics)
    shares = [metrics.share(advocate, "item-00000001") for _ in range(3)]
    clicks = [metrics.click(shares[0], visitor="v1"), metrics.click(shares[0], visitor="v1"),
              metrics.click(shares[0], visitor="v2"), metrics.click(shares[1], visitor="v1")]
    await metrics.send_to(metrics.topics.distribution_events, *shares, *clicks)
    # The same events again, as a relay re-publishes after a crash: the same ids.
    await metrics.send_to(metrics.topics.distribution_events, *clicks, *shares, *clicks)
    await metrics.drained(metrics.topics.distribution_events)

    figures = await totals(metrics, advocate)
    assert (figures["shares"], figures["clicks"], figures["unique_clicks"]) == (3, 4, 3)


async def test_a_batch_given_up_on_after_a_transient_fault_is_fetched_again_and_counted_once(metrics, monkeypatch):
    """The counting consumer's own loop (ADR 0026): a fault that outlasts the retry deadline
    loses neither the batch nor the one decoded behind it, and counts neither twice."""
    advocate = await sharer(metrics)
    metrics.service.inbox.retry_deadline_seconds = 0  # the first fault gives the batch up
    failures, add_clicks = 2, store.add_clicks

    async def flaky(conn, rows):
        nonlocal failures
        if failures:
            failures -= 1
            raise OSError("the database went away")  # transient: never dead-lettered
        await add_clicks(conn, rows)

    monkeypatch.setattr(store, "add_clicks", flaky)
    shares = [metrics.share(advocate, "item-00000001") for _ in range(2)]
    clicks = [metrics.click(shares[i % 2], visitor=f"v{i}") for i in range(40)]
    await metrics.send_to(metrics.topics.distribution_events, *shares, *clicks[:20])
    await metrics.send_to(metrics.topics.distribution_events, *clicks[20:])
    await metrics.drained(metrics.topics.distribution_events)

    figures = await totals(metrics, advocate)
    assert failures == 0
    assert (figures["shares"], figures["clicks"], figures["unique_clicks"]) == (2, 40, 40)
    dead = await read_topic(metrics.bootstrap, metrics.settings.dead_letter_topic, at_least=0, settle=0.5)
    assert [d for d in dead if dict(d.headers)["dlq-original-topic"] == metrics.topics.distribution_events.encode()] == []


async def test_cumulative_counters_keep_their_highest_value_whatever_the_order(metrics):
    advocate = await sharer(metrics)
    share = metrics.share(advocate, "item-00000001", network="x")
    later = DAY + timedelta(hours=1)
    await metrics.send_to(metrics.topics.distribution_events, share)
    await metrics.send_to(metrics.topics.engagement,
                   metrics.observed(share, at=later, impressions=250, reactions=7, comments=1),
                   metrics.observed(share, impressions=100, reactions=3, reshares=2),  # older, arrives late
                   metrics.observed(share, at=later, impressions=250, reactions=7, comments=1),  # repeated
                   metrics.observed(share, at=later + timedelta(hours=1), impressions=180, reactions=9))
    await metrics.drained(metrics.topics.distribution_events, metrics.topics.engagement)

    figures = await totals(metrics, advocate)
    assert {k: figures[k] for k in ("impressions", "reactions", "comments", "reshares")} == {
        "impressions": 250, "reactions": 9, "comments": 1, "reshares": 2}
    assert figures["engagement_rate"] == round((9 + 1 + 2) / 250, 6)


async def test_bad_input_is_dead_lettered_with_its_reason_and_the_rest_is_counted(metrics):
    share = metrics.share(new_id("adv"), "item-00000001")
    good = metrics.observed(share, impressions=10)
    bad = json.loads(good.to_bytes())
    bad["id"], bad["data"]["impressions"] = "bad-1", -5
    unknown = {**json.loads(good.to_bytes()), "id": "bad-2", "type": "advocacy.engagement.teleported.v1"}
    await metrics.send_to(metrics.topics.distribution_events, share)
    await produce(metrics.bootstrap, metrics.topics.engagement, [(b"k", json.dumps(bad).encode()), (b"k", b"not json"),
                                                         (b"k", json.dumps(unknown).encode()), (b"k", good.to_bytes())])
    await metrics.until("SELECT impressions FROM engagement", 10)

    dead = await read_topic(metrics.bootstrap, metrics.settings.dead_letter_topic, at_least=3, settle=0.5)
    reasons = [dict(d.headers)["dlq-error-message"].decode() for d in dead]
    assert len(dead) == 3
    assert any("impressions" in r for r in reasons) and not any("-5" in r for r in reasons)


async def test_a_share_or_report_dated_outside_1970_to_2100_is_dead_lettered_and_weeks_are_still_released(metrics):
    """A share dated in year 1 put the week of date.min (asyncpg's -infinity) into weeks_due,
    and the week-release job failed at every pass; a report in 9999 at -05:00 is in year
    10000 in UTC, which no reader of the followers table could hold."""
    advocate = await sharer(metrics)
    share = metrics.share(advocate, "item-00000001")
    ancient = json.loads(metrics.share(advocate, "item-00000001").to_bytes())
    ancient["data"]["created_at"] = "0001-01-01T00:00:00Z"
    distant = {"specversion": "1.0", "id": new_id("far"), "source": "/connector", "subject": advocate,
               "type": "advocacy.engagement.followers.reported.v1", "time": "2026-03-02T09:00:00Z",
               "data": {"advocate_id": advocate, "network": "linkedin", "followers": 10,
                        "observed_at": "9999-12-31T23:00:00-05:00"}}
    await produce(metrics.bootstrap, metrics.topics.distribution_events, [(b"k", json.dumps(ancient).encode())])
    await produce(metrics.bootstrap, metrics.topics.engagement, [(b"k", json.dumps(distant).encode())])
    await metrics.send_to(metrics.topics.distribution_events, share)

    dead = await read_topic(metrics.bootstrap, metrics.settings.dead_letter_topic, at_least=2, settle=0.5)
    reasons = sorted(dict(d.headers)["dlq-error-message"].decode() for d in dead)
    assert len(dead) == 2
    assert "data.created_at" in reasons[0] and "1970-01-01" in reasons[0], reasons
    assert "data.observed_at" in reasons[1] and "2100-01-01" in reasons[1], reasons
    await metrics.until("SELECT count(*) FROM week_releases WHERE week = $1", 1, DAY.date(), what="the week released")
    assert await metrics.fetchval("SELECT count(*) FROM weeks_due WHERE week < '1970-01-01'") == 0
    assert await metrics.fetchval("SELECT count(*) FROM followers") == 0


async def test_what_was_counted_before_from_times_outside_the_range_is_cleared_by_migration(metrics):
    """Migration 008: a share of year 1 goes with its clicks, its week stops being due, and a
    report of year 10000 counts as the oldest, so that the next report replaces it."""
    advocate = await sharer(metrics)
    kept = metrics.share(advocate, "item-00000001")
    await metrics.send_to(metrics.topics.distribution_events, kept, metrics.click(kept))
    await metrics.drained(metrics.topics.distribution_events)
    conn = await asyncpg.connect(metrics.settings.database_url)
    try:
        await conn.execute("""
            INSERT INTO shares (share_id, item_id, network, day, contributor)
                VALUES ('share-of-year-1', 'item-00000001', 'linkedin', '0001-01-01', gen_random_uuid());
            INSERT INTO clicks VALUES ('share-of-year-1', '0001-01-01', 'v1', false, 1);
            INSERT INTO weeks_due (week) VALUES ('-infinity'), ('0001-01-01');
            INSERT INTO followers VALUES ('adv-00000042', 'linkedin', 10, '10000-01-01 04:00:00+00')""")
        async with conn.transaction():
            await conn.execute((MIGRATIONS / "008_instants_in_the_contracts_range.sql").read_text())
        shares = [r[0] for r in await conn.fetch("SELECT share_id FROM shares")]
        clicks = [r[0] for r in await conn.fetch("SELECT share_id FROM clicks")]
        early_weeks = await conn.fetchval("SELECT count(*) FROM weeks_due WHERE week < '1970-01-01'")
        observed = await conn.fetchval("SELECT observed_at FROM followers")
    finally:
        await conn.close()
    assert shares == clicks == [kept.data.share_id] and early_weeks == 0
    assert observed == datetime(1970, 1, 1, tzinfo=UTC)


async def test_machine_requests_are_counted_apart_and_the_code_before_migration_010_still_writes(metrics):
    """Migration 010: a row that was a machine's keeps its requests as `machine_requests`, so
    a person's click that day counts from zero; the key stays, so the upsert of the version
    before (still running during a rollout, or after a rollback) is not refused."""
    conn = await asyncpg.connect(metrics.settings.database_url)
    try:
        await conn.execute("""
            INSERT INTO clicks (share_id, day, visitor, bot, clicks)
                VALUES ('share-1', '2026-03-02', 'v1', true, 3), ('share-1', '2026-03-02', 'v2', false, 2)""")
        async with conn.transaction():  # as it was before the migration
            await conn.execute("ALTER TABLE clicks DROP COLUMN machine_requests")
            await conn.execute("INSERT INTO clicks (share_id, day, visitor, bot, clicks) "
                               "VALUES ('share-1', '2026-03-02', 'v3', true, 4)")
            await conn.execute((MIGRATIONS / "010_machine_requests_apart.sql").read_text())
        await store.add_clicks(conn, pack_rows([("share-1", date(2026, 3, 2), "v3", False, 1, 0)]))  # v3 clicks after all
        await conn.execute("""
            INSERT INTO clicks (share_id, day, visitor, bot, clicks) VALUES ('share-1', '2026-03-02', 'v2', true, 1)
            ON CONFLICT (share_id, day, visitor) DO UPDATE
            SET clicks = clicks.clicks + EXCLUDED.clicks, bot = clicks.bot OR EXCLUDED.bot""")  # the code before
        rows = {r["visitor"]: tuple(r)[1:] for r in await conn.fetch(
            "SELECT visitor, bot, clicks, machine_requests FROM clicks ORDER BY visitor")}
    finally:
        await conn.close()
    assert rows == {"v1": (True, 0, 3), "v2": (True, 3, 0), "v3": (False, 1, 4)}


async def test_a_follower_report_dated_more_than_a_day_ahead_is_dead_lettered_and_keeps_no_later_one_out(metrics):
    """ADR 0038: the latest report is the count, so one dated 2099 (a connector's broken
    clock) kept every later report out until then."""
    [advocate] = await metrics.people(1, "Sales", Purpose.NETWORK_REACH)

    def report(followers: int, observed_at: datetime) -> engagement.FollowersReported:
        return engagement.FollowersReported(source="/connector", subject=advocate, data=engagement.Followers(
            advocate_id=advocate, network="xing", followers=followers, observed_at=observed_at))

    now = datetime.now(UTC)
    await metrics.send_to(metrics.topics.engagement, report(5, datetime(2099, 12, 31, tzinfo=UTC)),
                          report(999, now), report(1_000, now + timedelta(hours=1)))  # an hour's skew is taken
    await metrics.until("SELECT followers FROM followers WHERE advocate_id = $1", 1_000, advocate)
    [dead] = await read_topic(metrics.bootstrap, metrics.settings.dead_letter_topic, at_least=1, settle=0.5)
    assert "data.observed_at is more than 24 hours ahead of the receiver's clock" in \
        dict(dead.headers)["dlq-error-message"].decode()
