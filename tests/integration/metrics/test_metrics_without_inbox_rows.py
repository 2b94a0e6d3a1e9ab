"""Counting without a row per event (ADR 0021): shares, cancellations, observations and
follower counts are counted once however often they come, by construction; clicks the relay
numbered are counted once by their publication number. The same events are delivered again
as Kafka does after a lost commit (the same offsets) and as a relay does after a crash (the
same events, new offsets), and the inbox stays empty."""

import asyncio
from datetime import timedelta

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from harness.kafka import eventually
from schemas import distribution, engagement
from schemas.consent import Purpose
from services.metrics.app import build_service
from services.metrics.config import MetricsSettings, MetricsTopics
from tests.integration.metrics.conftest import DAY, MetricsRig, new_id
from tests.integration.rig import make_rig

PARTITIONS = 3


@pytest.fixture
async def counting(stack, scratch_schema, make_topics):
    """Metrics on fresh topics and schema, not yet running: tests start and stop it."""
    async with make_rig(MetricsRig, stack, scratch_schema, make_topics, build_service, MetricsSettings, MetricsTopics,
                        partitions=PARTITIONS, snapshot_seconds=3600, ingest_batch_size=500) as rig:
        yield rig


async def publish(rig, topic: str, events, numbers: list[int] | None = None, publisher: str = "distribution") -> None:
    """`events` on `topic`, keyed by subject; with `numbers`, as distribution's relay sends
    them: each with its publication number."""
    producer = AIOKafkaProducer(bootstrap_servers=rig.bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        sent = []
        for i, event in enumerate(events):
            headers = ([("publisher", publisher.encode()), ("publication", str(numbers[i]).encode())]
                       if numbers is not None else [])
            sent.append(await producer.send(topic, event.to_bytes(), key=event.subject.encode(), headers=headers))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def read_everything_again(rig, *topics: str) -> None:
    """Metrics' consumer groups back to offset 0 (with metrics stopped): as after commits
    that were lost, every record comes again at the offset it had."""
    for topic in topics:
        group = f"{rig.settings.service}.{topic}"
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]

        async def rewound(group=group, partitions=partitions) -> bool:
            consumer = AIOKafkaConsumer(bootstrap_servers=rig.bootstrap, group_id=group, enable_auto_commit=False)
            await consumer.start()
            try:
                consumer.assign(partitions)
                await consumer.commit(dict.fromkeys(partitions, 0))
                return True
            except KafkaError:  # the stopped member has not left the group yet
                return False
            finally:
                await consumer.stop()

        await eventually(rewound, what=f"{group} rewound")


async def figures(rig) -> dict:
    row = await rig.fetch(
        """SELECT (SELECT count(*) FROM shares) AS shares,
                  (SELECT count(*) FROM shares WHERE cancelled) AS cancelled,
                  (SELECT coalesce(sum(clicks), 0) FROM clicks) AS clicks,
                  (SELECT count(*) FROM clicks) AS unique_clicks,
                  (SELECT coalesce(sum(impressions), 0) FROM engagement) AS impressions,
                  (SELECT coalesce(sum(reactions), 0) FROM engagement) AS reactions,
                  (SELECT coalesce(sum(followers), 0) FROM followers) AS followers""")
    return dict(row[0])


async def test_shares_cancellations_observations_and_follower_counts_count_once_without_inbox_rows(counting):
    rig = counting
    advocate = new_id("adv")
    shares = [rig.share(advocate, "item-00000001", network=n) for n in ("linkedin", "x")]
    cancelled = rig.share(advocate, "item-00000002")
    c = cancelled.data
    cancel = distribution.ShareCancelled(source="/advocacy/distribution", subject=c.share_id, data=distribution.ShareEnded(
        share_id=c.share_id, item_id=c.item_id, network=c.network, reason=distribution.CancellationReason.ITEM_RETRACTED))
    later = DAY + timedelta(hours=2)
    observed = [rig.observed(shares[0], impressions=100, reactions=4),
                rig.observed(shares[0], at=later, impressions=300, reactions=9),
                rig.observed(shares[1], impressions=50, reactions=1)]
    followers = engagement.FollowersReported(source="/connector", subject=advocate, data=engagement.Followers(
        advocate_id=advocate, network="linkedin", followers=1200, observed_at=DAY))
    once = {"shares": 3, "cancelled": 1, "clicks": 0, "unique_clicks": 0, "impressions": 350, "reactions": 10,
            "followers": 1200}

    async with rig.running():
        await rig.consent(advocate, Purpose.NETWORK_REACH)
        await rig.until("SELECT count(*) FROM consents WHERE advocate_id = $1", 1, advocate)
        await rig.send_to(rig.topics.distribution_events, *shares, cancelled, cancel)
        await rig.send_to(rig.topics.engagement, *observed, followers)
        await rig.drained(rig.topics.distribution_events, rig.topics.engagement)
        assert await figures(rig) == once
        # The same events again, as a connector retrying or a relay after a crash: new offsets.
        await rig.send_to(rig.topics.distribution_events, cancel, *shares, cancelled)
        await rig.send_to(rig.topics.engagement, followers, *reversed(observed))
        await rig.drained(rig.topics.distribution_events, rig.topics.engagement)
        assert await figures(rig) == once
    await read_everything_again(rig, rig.topics.distribution_events, rig.topics.engagement)
    async with rig.running():  # every record again, at the offsets it had
        await rig.drained(rig.topics.distribution_events, rig.topics.engagement)
        assert await figures(rig) == once

    assert await rig.count("inbox WHERE consumer = $1 AND topic = ANY($2)", rig.settings.service,
                           [rig.topics.distribution_events, rig.topics.engagement]) == 0


async def test_clicks_numbered_by_the_relay_count_once_when_redelivered_or_sent_again_without_inbox_rows(counting):
    rig = counting
    share, other = rig.share(new_id("adv"), "item-00000001"), rig.share(new_id("adv"), "item-00000001")
    clicks = [rig.click(share, visitor="v1"), rig.click(share, visitor="v1"), rig.click(share, visitor="v2"),
              rig.click(other, visitor="v1")]
    events = rig.topics.distribution_events

    async with rig.running():
        await publish(rig, events, [share, other, *clicks], numbers=[1, 2, 3, 4, 5, 6])
        await rig.drained(events)
        assert (await figures(rig))["clicks"] == 4
        # The relay died before deleting its batch: the next one sends it again, same numbers,
        # new offsets, followed by what is new.
        later = rig.click(other, visitor="v3")
        await publish(rig, events, [share, other, *clicks, later], numbers=[1, 2, 3, 4, 5, 6, 7])
        await rig.drained(events)
        assert ((await figures(rig))["clicks"], (await figures(rig))["unique_clicks"]) == (5, 4)
    await read_everything_again(rig, events)
    async with rig.running():
        await rig.drained(events)
        assert ((await figures(rig))["clicks"], (await figures(rig))["unique_clicks"]) == (5, 4)

    assert await rig.count("inbox") == 0
    # One position per partition the publisher wrote to, whatever the number of clicks.
    positions = await rig.fetch("SELECT partition, publisher, publication FROM consumer_positions WHERE topic = $1",
                                events)
    assert 1 <= len(positions) <= PARTITIONS and {p["publisher"] for p in positions} == {"distribution"}
    assert max(p["publication"] for p in positions) == 7


async def test_clicks_nobody_numbered_keep_their_ids_and_count_once(counting):
    """A click without a publication number (a producer other than the relay) falls back to
    the inbox: sent twice, counted once, one row per click."""
    rig = counting
    share = rig.share(new_id("adv"), "item-00000001")
    clicks = [rig.click(share, visitor="v1"), rig.click(share, visitor="v1")]
    async with rig.running():
        await rig.send_to(rig.topics.distribution_events, share, *clicks)
        await rig.send_to(rig.topics.distribution_events, *clicks, share)
        await rig.drained(rig.topics.distribution_events)
        assert ((await figures(rig))["clicks"], (await figures(rig))["shares"]) == (2, 1)
    assert await rig.count("inbox") == 2  # the clicks', not the share's
