"""After erasing an advocate who took part in everything — consent to every purpose, a feed,
a share, clicks on it, engagement and follower counts — no column of any table in the four
services' schemas holds their id; the consent ledger and the erasure's record keep only the
keyed pseudonym; the compacted consent state holds a tombstone for each of their keys; and
of every topic, those still naming them are none a partner reads, each for a stated, bounded
time (retention, compaction lag; the directory is HR's to tombstone).

The four services run as processes on the shared stack (`signed_in_services`, trusting the
test issuer: the advocate's own commands go over HTTP, signed in), so their consumer groups
may be shared with other running replicas: every wait looks for this advocate's own events
and rows."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg

from harness.kafka import end_offsets, eventually
from ops.bus import Tail, publish
from ops.scenario import clicks, commands
from ops.scenario.cast import Person
from ops.scenario.commands import APPROVER, EDITOR
from ops.scenario.policies import on_kafka as current_policies
from schemas import consent, curation, directory, distribution, engagement
from schemas.catalog import SERVICES
from schemas.platform import PARTNER, load_platform
from services.consent.config import ConsentSettings
from services.consent.domain import pseudonym
from tests.integration.consent.rig import erase
from tests.integration.security.people import SignedIn
from tests.integration.security.traces import columns, latest_by_key, places_holding, topics_naming


async def test_erasure_leaves_no_trace_of_the_advocate_in_any_schema_or_state(stack, signed_in_services, issuer):
    tag = uuid.uuid4().hex[:10]
    person = Person(f"adv-erase-{tag}", "employee", "Sales", "Zurich", ("en",), (), "immediate", ("linkedin",))
    who = person.advocate_id
    topics = {t.name: t for t in load_platform().topics}
    topics_before = {name: await end_offsets(stack.kafka_bootstrap, name) for name in topics}
    state_before = topics_before[consent.STATE_TOPIC]
    tail = await Tail(stack.kafka_bootstrap, consent.EVENTS_TOPIC, distribution.EVENTS_TOPIC, distribution.ITEMS_TOPIC).start()
    admin = await asyncpg.connect(stack.admin_dsn)
    try:
        await take_part_in_everything(stack.kafka_bootstrap, SignedIn(issuer, signed_in_services), tail, admin,
                                      person, f"item-erase-{tag}")
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
        # The proof stays, by keyed pseudonym only: the ledger, and the erasure's record beside it
        # (who was erased, who asked: here the person themself).
        assert await places_holding(admin, ref, tables) == {
            "consent.ledger.subject_ref", "consent.erasures.subject_ref", "consent.erasures.requested_by_ref"}

        state = await latest_by_key(stack.kafka_bootstrap, state_before, lambda key: key.startswith(f"{who}:"))
        assert state == {f"{who}:{p.value}": None for p in consent.Purpose}  # a tombstone for every key

        # Every topic: where the id still is, it is for a bounded, stated time, and never where
        # a partner reads (ADR 0018, 0019): delete-policy topics until their retention ends (at
        # most 30 days), the consent state until compaction drops the tombstoned records
        # (max.compaction.lag.ms), the directory until HR tombstones it (docs/operators.md).
        holding = await topics_naming(stack.kafka_bootstrap, topics_before, who)
        assert consent.EVENTS_TOPIC in holding and directory.TOPIC in holding  # the scan finds it where it is
        for name in holding:
            topic = topics[name]
            assert PARTNER not in topic.readers, name
            if "compact" in topic.cleanup_policy:
                assert name in (consent.STATE_TOPIC, directory.TOPIC), name
                assert topic.max_compaction_lag_hours <= 24, name
            else:
                assert topic.retention_days <= 30, name
    finally:
        await admin.close()
        await tail.stop()


async def take_part_in_everything(bootstrap: str, api: SignedIn, tail: Tail, admin: asyncpg.Connection,
                                  person: Person, item: str) -> None:
    """Joins (HR, on Kafka), consents to every purpose (as the person, over HTTP), gets an
    item (drafted and published on Kafka, approved by a second editor over HTTP), shares it
    (over HTTP); the link is clicked and the connector reports engagement and followers.
    Returns once every service has recorded it."""
    who = person.advocate_id
    await publish(bootstrap, directory.TOPIC, [commands.joined(person)])
    versions = await current_policies(admin, bootstrap, tail)
    await eventually(lambda: _all_know(admin, who), timeout=60, what="every service to know the advocate")
    for purpose in consent.Purpose:
        await api.call("consent", "POST", f"/api/me/consents/{purpose.value}/give", who,
                       {"policy_version": versions[purpose], "collection_method": "web_form"})
    await eventually(lambda: _holds_every_purpose(admin, who), timeout=60, what="every consent to be known")
    await publish(bootstrap, engagement.TOPIC, [engagement.FollowersReported(source="/connector", subject=who, data=(
        engagement.Followers(advocate_id=who, network="linkedin", followers=321, observed_at=datetime.now(UTC))))])

    content = curation.ItemContent(
        source_url="https://example.com/news/erasure", title="Erasure check", summary="What erasure leaves behind.",
        language="en", topics=["careers"], disclosure="#employee", share_texts={"linkedin": "Read this"})
    await publish(bootstrap, curation.COMMANDS_TOPIC, [
        curation.DraftItem(source="/newsroom", subject=item, data=curation.WriteItem(actor=EDITOR, content=content)),
        curation.SubmitItem(source="/newsroom", subject=item, data=curation.ItemAction(actor=EDITOR))])
    await eventually(lambda: _in_review(admin, item), timeout=60, what="the item in review")
    in_review = await api.call("curation", "GET", f"/api/items/{item}", APPROVER, roles=("approver",))
    await api.call("curation", "POST", f"/api/items/{item}/approve", APPROVER, {"version": in_review["version"]},
                   roles=("approver",))
    await publish(bootstrap, curation.COMMANDS_TOPIC, [
        curation.PublishItem(source="/newsroom", subject=item, data=curation.ItemAction(actor=APPROVER))])
    await eventually(arrived(tail, "advocacy.distribution.item.distributed.v2", item), timeout=60, what="the feed")
    share = await api.call("distribution", "POST", "/api/me/shares", who, {"item_id": item, "network": "linkedin"},
                           expect=201)
    share_id = share["share_id"]
    await eventually(arrived(tail, "advocacy.distribution.share.created.v1", share_id), timeout=60,
                     what="the share announced")
    code = share["tracked_url"].rsplit("/r/", 1)[1]
    redirect = f"http://127.0.0.1:{api.ports['distribution']}/r/{code}"
    assert await asyncio.to_thread(clicks.click, redirect, "198.51.100.7", clicks.BROWSERS[0]) == 302
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


async def _in_review(admin: asyncpg.Connection, item: str) -> bool:
    return await admin.fetchval("SELECT status FROM curation.items WHERE id = $1", item) == "in_review"


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
