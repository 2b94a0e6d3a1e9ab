"""After erasing an advocate who took part in everything — consent to every purpose, a feed,
a share, clicks on it, engagement and follower counts — no column of any table in the four
services' schemas holds their id; the consent ledger keeps only its keyed pseudonym; and the
compacted consent state holds a tombstone for each of their keys.

The four services run as processes on the shared stack (`running_services`), so their
consumer groups may be shared with other running replicas: every wait looks for this
advocate's own events and rows."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg

from harness.kafka import eventually
from ops.bus import Tail, publish
from ops.scenario import clicks, commands
from ops.scenario.cast import Person
from ops.scenario.policies import on_kafka as current_policies
from schemas import consent, curation, directory, distribution, engagement
from schemas.catalog import SERVICES
from services.consent.config import ConsentSettings
from services.consent.domain import pseudonym
from tests.integration.consent.rig import erase, give
from tests.integration.security.traces import columns, end_offsets, latest_by_key, places_holding


async def test_erasure_leaves_no_trace_of_the_advocate_in_any_schema_or_state(stack, running_services):
    tag = uuid.uuid4().hex[:10]
    person = Person(f"adv-erase-{tag}", "employee", "Sales", "Zurich", ("en",), (), "immediate", ("linkedin",))
    who = person.advocate_id
    state_before = await end_offsets(stack.kafka_bootstrap, consent.STATE_TOPIC)
    tail = await Tail(stack.kafka_bootstrap, consent.EVENTS_TOPIC, distribution.EVENTS_TOPIC).start()
    admin = await asyncpg.connect(stack.admin_dsn)
    try:
        await take_part_in_everything(stack.kafka_bootstrap, running_services["distribution"], tail, admin, person,
                                      f"item-erase-{tag}")
        tables = await columns(admin, list(SERVICES))
        before = await places_holding(admin, who, tables)
        assert {place.split(".")[0] for place in before} == set(SERVICES)  # the scan finds them where they are

        await publish(stack.kafka_bootstrap, consent.COMMANDS_TOPIC, [erase(who)])
        await eventually(arrived(tail, "advocacy.consent.advocate.erased.v1", who), timeout=60, what="the erasure")
        left: set[str] = set()

        async def gone() -> bool:  # each service purges when it reads the event; outboxes drain after
            left.clear()
            left.update(await places_holding(admin, who, tables))
            return not left

        try:
            await eventually(gone, timeout=60, what="the id to leave every schema")
        except AssertionError:
            raise AssertionError(f"after erasure the advocate's id is still in {sorted(left)}") from None
        ref = pseudonym(ConsentSettings().consent_pseudonym_key.get_secret_value().encode(), who)
        assert await places_holding(admin, ref, tables) == {"consent.ledger.subject_ref"}  # the proof stays

        state = await latest_by_key(stack.kafka_bootstrap, state_before, lambda key: key.startswith(f"{who}:"))
        assert state == {f"{who}:{p.value}": None for p in consent.Purpose}  # a tombstone for every key
    finally:
        await admin.close()
        await tail.stop()


async def take_part_in_everything(bootstrap: str, redirect_port: int, tail: Tail, admin: asyncpg.Connection,
                                  person: Person, item: str) -> None:
    """Joins, consents to every purpose, gets an item, shares it; the link is clicked and the
    connector reports engagement and followers. Returns once every service has recorded it."""
    who = person.advocate_id
    await publish(bootstrap, directory.TOPIC, [commands.joined(person)])
    versions = await current_policies(admin, bootstrap, tail)
    await eventually(lambda: _all_know(admin, who), timeout=60, what="every service to know the advocate")
    await publish(bootstrap, consent.COMMANDS_TOPIC, [give(who, p, versions[p]) for p in consent.Purpose])
    await eventually(lambda: _holds_every_purpose(admin, who), timeout=60, what="every consent to be known")
    await publish(bootstrap, engagement.TOPIC, [engagement.FollowersReported(source="/connector", subject=who, data=(
        engagement.Followers(advocate_id=who, network="linkedin", followers=321, observed_at=datetime.now(UTC))))])

    content = curation.ItemContent(
        source_url="https://example.com/news/erasure", title="Erasure check", summary="What erasure leaves behind.",
        language="en", topics=["careers"], disclosure="#employee", share_texts={"linkedin": "Read this"})
    await publish(bootstrap, curation.COMMANDS_TOPIC, commands.item_steps(item, content))
    await eventually(arrived(tail, "advocacy.distribution.item.distributed.v1", item), timeout=60, what="the feed")
    await publish(bootstrap, distribution.COMMANDS_TOPIC, [distribution.RequestShare(
        source="/app", subject=who, data=distribution.ShareRequest(actor=who, advocate_id=who, item_id=item,
                                                                   network="linkedin"))])

    async def share_created() -> bool:
        share_id = await _share_of(admin, who)
        return share_id is not None and await arrived(tail, "advocacy.distribution.share.created.v1", share_id)()

    await eventually(share_created, timeout=60, what="the share")
    share_id = await _share_of(admin, who)
    [share] = [e for e in tail.of("advocacy.distribution.share.created.v1") if e["subject"] == share_id]
    code = share["data"]["tracked_url"].rsplit("/r/", 1)[1]  # any replica may have made it: click on ours
    assert clicks.click(f"http://127.0.0.1:{redirect_port}/r/{code}", "198.51.100.7", clicks.BROWSERS[0]) == 302
    await publish(bootstrap, engagement.TOPIC, [engagement.EngagementObserved(
        source="/connector", subject=share_id, data=engagement.Engagement(
            share_id=share_id, network="linkedin", impressions=500, reactions=9, comments=2, reshares=1,
            observed_at=datetime.now(UTC)))])
    await eventually(lambda: _metrics_counted(admin, who, share_id), timeout=60,
                     what="metrics to count the click, the engagement and the followers")


def arrived(tail: Tail, event_type: str, subject: str) -> Callable[[], Awaitable[bool]]:
    """A check for `eventually`: an event of that type about `subject` was published."""
    async def check() -> bool:
        return any(e["subject"] == subject for e in tail.of(event_type))
    return check


async def _share_of(admin: asyncpg.Connection, who: str) -> str | None:
    return await admin.fetchval("SELECT share_id FROM distribution.shares WHERE advocate_id = $1", who)


async def _all_know(admin: asyncpg.Connection, who: str) -> bool:
    counts = [await admin.fetchval(f"SELECT count(*) FROM {s}.people WHERE advocate_id = $1", who) for s in SERVICES]
    return counts == [1] * len(SERVICES)


async def _holds_every_purpose(admin: asyncpg.Connection, who: str) -> bool:
    """Distribution keeps every purpose; metrics only those its figures depend on."""
    sql = "SELECT count(*) FROM {}.consents WHERE advocate_id = $1 AND valid AND purpose = ANY($2)"
    kept_by_metrics = [consent.Purpose.SHARE_ATTRIBUTION, consent.Purpose.NETWORK_REACH, consent.Purpose.LEADERBOARD]
    return (await admin.fetchval(sql.format("distribution"), who, [p.value for p in consent.Purpose])
            == len(consent.Purpose)
            and await admin.fetchval(sql.format("metrics"), who, [p.value for p in kept_by_metrics])
            == len(kept_by_metrics))


async def _metrics_counted(admin: asyncpg.Connection, who: str, share_id: str) -> bool:
    return (await admin.fetchval("SELECT count(*) FROM metrics.followers WHERE advocate_id = $1", who) == 1
            and await admin.fetchval("SELECT count(*) FROM metrics.engagement WHERE share_id = $1", share_id) == 1
            and await admin.fetchval("SELECT coalesce(sum(clicks), 0) FROM metrics.clicks WHERE share_id = $1",
                                     share_id) == 1)
