"""What distribution benchmarks start from: people who joined and gave consent, an item in
their feeds, and optionally a share of it each, all sent over Kafka as the other services
would, and waited for in distribution's tables."""

import asyncio
from datetime import UTC, datetime

import asyncpg

from ops.bus import publish
from schemas import consent, curation, directory, distribution
from schemas.consent import ChangedBy, ConsentRecord, Purpose, Status
from services.distribution.config import DistributionTopics

ITEM = "item-benchmark"


def joined(who: str) -> directory.PersonJoined:
    return directory.PersonJoined(source="/hr", subject=who, data=directory.Profile(
        advocate_id=who, role="employee", languages=["de"], networks=["linkedin"]))


def consent_event(who: str, valid: bool, purpose: Purpose = Purpose.RECEIVE_CONTENT,
                  ) -> consent.ConsentGiven | consent.ConsentWithdrawn:
    kind, status = (consent.ConsentGiven, Status.GIVEN) if valid else (consent.ConsentWithdrawn, Status.WITHDRAWN)
    return kind(source="/advocacy/consent", subject=who, data=ConsentRecord(
        advocate_id=who, purpose=purpose, status=status, valid=valid, changed_by=ChangedBy.SUBJECT,
        changed_at=datetime.now(UTC), ledger_hash="0" * 64))


def share_request(who: str, scheduled_at: datetime | None = None) -> distribution.RequestShare:
    return distribution.RequestShare(source="/app", subject=who, data=distribution.ShareRequest(
        actor=who, advocate_id=who, item_id=ITEM, network="linkedin", scheduled_at=scheduled_at))


async def prepare(bootstrap: str, topics: DistributionTopics, conn: asyncpg.Connection, people: int,
                  shares_scheduled_at: datetime | None = None, share: bool = True) -> list[str]:
    """`people` with consent to receive content and to scheduled sharing, the item in their
    feeds and, if `share`, a share each (scheduled if a time is given)."""
    who = [f"adv-b-{n:05d}" for n in range(people)]
    await publish(bootstrap, topics.directory, [joined(p) for p in who])
    await publish(bootstrap, topics.consent_events, [consent_event(p, True, purpose) for p in who
                                                     for purpose in (Purpose.RECEIVE_CONTENT, Purpose.SCHEDULED_SHARING)])
    await until(conn, "SELECT count(*) FROM consents WHERE valid", 2 * people)
    await until(conn, "SELECT count(*) FROM people", people)  # a later joiner would miss the item
    await publish(bootstrap, topics.curation_events, [curation.ItemPublished(
        source="/advocacy/curation", subject=ITEM, data=curation.PublishedItem(
            item_id=ITEM, published_at=datetime.now(UTC), content=curation.ItemContent(
                source_url="https://example.org/news/benchmark", title="Our new plant", language="de")))])
    await until(conn, "SELECT count(*) FROM feed", people)
    if share:
        await publish(bootstrap, topics.commands, [share_request(p, shares_scheduled_at) for p in who])
        await until(conn, "SELECT count(*) FROM shares", people)
    return who


async def until(conn: asyncpg.Connection, sql: str, at_least: int) -> None:
    while await conn.fetchval(sql) < at_least:
        await asyncio.sleep(0.1)
