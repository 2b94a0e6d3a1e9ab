"""Idempotent consumer: each event's id is stored in the same transaction as its effect.

A redelivered event (at-least-once delivery, a relay that re-published after a crash)
finds its id already there and has no second effect. Ids are claimed per topic: a message
on one topic cannot claim the id of an event on another (whose writer may be anyone with
access to that topic) and so silence it. Transient faults are retried
with back-off; if they outlast the deadline the error propagates and FastStream
hands the message back to Kafka (nack) instead of committing its offset.
"""

import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import asyncpg
from aiokafka import ConsumerRecord
from pydantic import TypeAdapter

from schemas.envelope import CloudEvent, check_received
from services.runtime import logs, metrics
from services.runtime.dead_letters import DeadLetters
from services.runtime.retry import is_transient, retry_transient
from services.runtime.unit_of_work import UnitOfWork

E = TypeVar("E", bound=CloudEvent[Any])

# (topic, event id) pairs; a row from before topics were recorded ('') still counts on any topic.
_CLAIM_MANY = """INSERT INTO inbox (consumer, topic, event_id)
SELECT $1, c.topic, c.event_id FROM unnest($2::text[], $3::text[]) AS c(topic, event_id)
WHERE NOT EXISTS (SELECT 1 FROM inbox l WHERE l.consumer = $1 AND l.topic = '' AND l.event_id = c.event_id)
ON CONFLICT DO NOTHING RETURNING topic, event_id"""


class Inbox:
    def __init__(
        self, pool: asyncpg.Pool, service: str, source: str, dead_letters: DeadLetters,
        retry_deadline_seconds: float = 60.0,
    ) -> None:
        self.pool = pool
        self.service = service
        self.source = source
        self.dead_letters = dead_letters
        self.retry_deadline_seconds = retry_deadline_seconds

    async def handle_batch_once(
        self, records: Sequence[ConsumerRecord], decode: TypeAdapter[E],
        effect: Callable[[UnitOfWork, list[E]], Awaitable[None]], consumer: str | None = None,
    ) -> int:
        """Decode each record (dead-lettering those that fail), then in one transaction
        claim all ids with one statement and apply `effect` to the events not seen
        before, in their original order. Returns how many were applied."""
        decoded = await self._decode_each(records, decode)
        return await self._apply_batch_or_each(decoded, effect, consumer)

    async def handle_each_once(
        self, records: Sequence[ConsumerRecord], decode: TypeAdapter[E],
        effect: Callable[[UnitOfWork, E], Awaitable[None]], consumer: str | None = None,
    ) -> int:
        """Decode each record (dead-lettering those that fail), then apply `effect` to each
        event this consumer has not handled before, in order: each its own effect (and its
        events their causation), but the batch shares one transaction, one claim statement
        and one offset commit, which is what keeps a subscriber ahead of bursts. Returns how
        many were applied."""
        decoded = await self._decode_each(records, decode)
        keys = {id(event): record.key or b"" for record, event in decoded}

        async def apply_each(uow: UnitOfWork, new: list[E]) -> None:
            for event in new:
                logs.correlation_id.set(event.correlationid or event.id)
                await effect(UnitOfWork(uow.conn, self.source, cause=event, kafka_key=keys[id(event)]), event)

        return await self._apply_batch_or_each(decoded, apply_each, consumer)

    async def _apply_batch_or_each(
        self, decoded: list[tuple[ConsumerRecord, E]], effect: Callable[[UnitOfWork, list[E]], Awaitable[None]],
        consumer: str | None,
    ) -> int:
        """The batch in one transaction; if that fails for good (a bug, a value the database
        cannot store), once more one event per transaction, so that only the failing events
        are dead-lettered and the good ones beside them count (the middleware would
        dead-letter the whole batch)."""
        try:
            return await self._apply_batch([(record.topic, event) for record, event in decoded], effect, consumer)
        except Exception as error:
            if is_transient(error):
                raise  # retried until the deadline already: back to Kafka
        applied = 0
        for record, event in decoded:
            try:
                applied += await self._apply_batch([(record.topic, event)], effect, consumer)
            except Exception as error:
                if is_transient(error):
                    raise
                await self.dead_letters.send(record, error)
        return applied

    async def _apply_batch(
        self, events: list[tuple[str, E]], effect: Callable[[UnitOfWork, list[E]], Awaitable[None]],
        consumer: str | None,
    ) -> int:
        """`events` are (topic, event) pairs: an id is claimed on the topic it came from."""
        if not events:
            return 0

        async def attempt() -> list[E]:
            async with self.pool.acquire() as conn, conn.transaction():
                unique = _unique(events)
                claimed = await conn.fetch(_CLAIM_MANY, consumer or self.service, [t for t, _ in unique],
                                           [e.id for _, e in unique])
                fresh = {(row["topic"], row["event_id"]) for row in claimed}
                new = [e for t, e in unique if (t, e.id) in fresh]
                if new:
                    await effect(UnitOfWork(conn, self.source), new)
                return new

        started = time.perf_counter()
        new = await retry_transient(attempt, self.retry_deadline_seconds)
        metrics.HANDLER_SECONDS.labels(self.service, "batch").observe(time.perf_counter() - started)
        metrics.HANDLED.labels(self.service, "batch", "applied").inc(len(new))
        metrics.HANDLED.labels(self.service, "batch", "duplicate").inc(len(events) - len(new))
        return len(new)

    async def _decode_each(
        self, records: Sequence[ConsumerRecord], decode: TypeAdapter[E],
    ) -> list[tuple[ConsumerRecord, E]]:
        decoded = []
        for record in records:
            if record.value is None:  # a tombstone: compaction deletes a key; there is no event to apply
                metrics.TOMBSTONES.labels(self.service, record.topic).inc()
                continue
            try:
                event = decode.validate_json(record.value or b"")
                check_received(event)
                decoded.append((record, event))
            except ValueError as error:  # pydantic's ValidationError is one
                await self.dead_letters.send(record, error)
        return decoded


def _unique(events: Sequence[tuple[str, E]]) -> list[tuple[str, E]]:
    """The same event twice in one batch (same topic, same id) counts once."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for topic, event in events:
        if (topic, event.id) not in seen:
            seen.add((topic, event.id))
            unique.append((topic, event))
    return unique


def pruner(retention_days: float) -> Callable[[UnitOfWork, datetime], Awaitable[int]]:
    """A schedule job: forget handled ids older than the retention, 5,000 at a time. Keep it
    longer than any topic's retention, or a redelivered event could be applied twice."""

    async def prune(uow: UnitOfWork, now: datetime) -> int:
        status = await uow.conn.execute(
            "DELETE FROM inbox WHERE ctid = ANY(ARRAY(SELECT ctid FROM inbox WHERE handled_at < $1 LIMIT 5000))",
            now - timedelta(days=retention_days))
        return int(status.split()[-1])

    return prune
