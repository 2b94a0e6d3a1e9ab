"""What distribution benchmarks start from: people who joined and gave consent, and an item
in their feeds, sent over Kafka as the other services would; optionally a share of it each,
asked for by each person over distribution's HTTP API, signed in (share requests on Kafka
are refused `sign_in_required`); all waited for in distribution's tables."""

import asyncio
import itertools
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg

from benchmarks.front_door import ALREADY_APPLIED, FrontDoor
from ops.bus import publish
from schemas import consent, curation, directory
from schemas.consent import ChangedBy, ConsentRecord, Purpose, Status
from services.distribution.config import DistributionTopics

ITEM = "item-benchmark"
# Consent records' `sequence` (ADR 0019): each above every one before, in any run.
_SEQUENCES = itertools.count(time.time_ns())


def joined(who: str) -> directory.PersonJoined:
    return directory.PersonJoined(source="/hr", subject=who, data=directory.Profile(
        advocate_id=who, role="employee", languages=["de"], networks=["linkedin"]))


def consent_event(who: str, valid: bool, purpose: Purpose = Purpose.RECEIVE_CONTENT,
                  ) -> consent.ConsentGiven | consent.ConsentWithdrawn:
    kind, status = (consent.ConsentGiven, Status.GIVEN) if valid else (consent.ConsentWithdrawn, Status.WITHDRAWN)
    return kind(source="/advocacy/consent", subject=who, consentsequence=next(_SEQUENCES), data=ConsentRecord(
        advocate_id=who, purpose=purpose, status=status, valid=valid, changed_by=ChangedBy.SUBJECT,
        changed_at=datetime.now(UTC), ledger_hash="0" * 64))


SHARES_PATH = "/api/me/shares"


def share_body(scheduled_at: datetime | None = None) -> dict[str, Any]:
    """POST /api/me/shares: the item on LinkedIn, now or at `scheduled_at`."""
    body: dict[str, Any] = {"item_id": ITEM, "network": "linkedin"}
    return body | {"scheduled_at": scheduled_at.isoformat()} if scheduled_at else body


async def prepare(bootstrap: str, topics: DistributionTopics, conn: asyncpg.Connection, people: int,
                  shares_scheduled_at: datetime | None = None, door: FrontDoor | None = None) -> list[str]:
    """`people` with consent to receive content and to scheduled sharing, the item in their
    feeds and, given the served distribution's `door`, a share each asked for over HTTP
    (scheduled if a time is given). Raises AssertionError if a share request is refused."""
    who = [f"adv-b-{n:05d}" for n in range(people)]
    await publish(bootstrap, topics.directory, [joined(p) for p in who])
    await publish(bootstrap, topics.consent_events, [consent_event(p, True, purpose) for p in who
                                                     for purpose in (Purpose.RECEIVE_CONTENT, Purpose.SCHEDULED_SHARING)])
    await until(conn, "SELECT count(*) FROM consents WHERE valid", 2 * people)
    await until(conn, "SELECT count(*) FROM people", people)  # a later joiner would miss the item
    await publish(bootstrap, topics.curation_events, [curation.ItemPublished(
        source="/advocacy/curation", subject=ITEM, data=curation.PublishedItem(
            # topics=[]: the default, written out for mypy (ops/scenario/commands.py says why).
            item_id=ITEM, published_at=datetime.now(UTC), content=curation.ItemContent(
                source_url="https://example.org/news/benchmark", title="Our new plant", language="de", topics=[])))])
    await until(conn, "SELECT count(*) FROM feed", people)
    if door is not None:
        door.sign_in(who)
        for response in await asyncio.gather(*(door.post(p, SHARES_PATH, share_body(shares_scheduled_at))
                                               for p in who)):
            made = response.status_code == 201 or response.json().get("reason") == ALREADY_APPLIED  # a retry's
            assert made, f"a share refused: {response.status_code} {response.text}"
        await until(conn, "SELECT count(*) FROM shares", people)
    return who


async def until(conn: asyncpg.Connection, sql: str, at_least: int) -> None:
    while await conn.fetchval(sql) < at_least:
        await asyncio.sleep(0.1)
