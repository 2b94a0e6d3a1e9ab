"""A simulated network connector: posts the scheduled shares it is asked to post, and
reports what posts achieved — cumulative counters, sometimes twice, sometimes late and
lower (readers keep the highest) — and the sharers' follower counts."""

import asyncio
import random
from datetime import UTC, datetime, timedelta

from ops.bus import Tail, publish
from schemas import engagement


async def post_when_asked(bootstrap: str, tail: Tail, stop: asyncio.Event) -> None:
    """Until `stop` is set: every publish request is answered with 'published'."""
    done = 0
    while not stop.is_set():
        asked = tail.of("advocacy.distribution.share.publish.requested.v1")[done:]
        if asked:
            await publish(bootstrap, engagement.TOPIC, [engagement.SharePublished(
                source="/connector", subject=a["subject"], data=engagement.PostOutcome(
                    share_id=a["subject"], network=a["data"]["network"], at=datetime.now(UTC))) for a in asked])
            done += len(asked)
        await asyncio.sleep(0.2)


def observations(shares: list[dict], rng: random.Random) -> list:
    """`observe` for share.created events (or dicts shaped like them: `subject`, `data.network`)."""
    return observe([(share["subject"], share["data"]["network"]) for share in shares], rng)


def observe(shares: list[tuple[str, str]], rng: random.Random) -> list:
    """What the posts of `shares` ((share id, network) each) achieved, as the connector
    reports it: a final reading of each, some delivered twice, some after an earlier, lower
    reading arriving late."""
    now, reports = datetime.now(UTC), []
    for share_id, network in shares:
        impressions = rng.randint(50, 5000)
        final = engagement.EngagementObserved(source="/connector", subject=share_id, data=engagement.Engagement(
            share_id=share_id, network=network, impressions=impressions, reactions=impressions // rng.randint(20, 80),
            comments=impressions // rng.randint(200, 900), reshares=impressions // rng.randint(300, 1500),
            observed_at=now))
        reports.append(final)
        if rng.random() < 0.2:
            reports.append(final)  # delivered twice: the same event id
        if rng.random() < 0.3:  # an earlier, lower reading arriving late
            earlier = final.data.model_copy(
                update={"impressions": impressions // 2, "reactions": 0, "observed_at": now - timedelta(hours=1)})
            reports.append(engagement.EngagementObserved(source="/connector", subject=share_id, data=earlier))
    return reports


def followers(people, rng: random.Random) -> list:
    """Follower counts of everyone's connected networks, as connectors learn them on connecting
    (metrics keeps them only for those who allowed `network_reach`)."""
    now = datetime.now(UTC)
    return [engagement.FollowersReported(source="/connector", subject=p.advocate_id, data=engagement.Followers(
        advocate_id=p.advocate_id, network=network, followers=rng.randint(80, 4000), observed_at=now))
        for p in people for network in p.networks]
