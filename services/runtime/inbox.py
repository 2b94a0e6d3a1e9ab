"""Idempotent consumer: each event's id is stored in the same transaction as its effect.

A redelivered event (at-least-once delivery, a relay that re-published after a crash)
finds its id already there and has no second effect. Ids are claimed per topic: a message
on one topic cannot claim the id of an event on another (whose writer may be anyone with
access to that topic) and so silence it. Transient faults are retried
with back-off; if they outlast the deadline the error propagates and FastStream
hands the message back to Kafka (nack) instead of committing its offset.

High-volume streams need no row per event (ADR 0021, `handle_batch_counted`): an effect
idempotent by construction is applied again without harm, and an event the outbox relay
numbered is recognised by its publication number, at or below the consumer's position for
its topic, partition and publisher (`consumer_positions`, one row each, written with the
effects). Only an event that is neither keeps its id here.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
from aiokafka import ConsumerRecord
from pydantic import TypeAdapter

from schemas.envelope import AHEAD_TOLERATED, CloudEvent, check_received
from services.runtime import logs, metrics
from services.runtime.counted_batch import CountedBatch, Preparing
from services.runtime.dead_letters import DeadLetters
from services.runtime.rejections import RefusedWithoutSavepoint
from services.runtime.retry import is_transient, retry_transient
from services.runtime.unit_of_work import Connection, Deferred, UnitOfWork, flush

E = TypeVar("E", bound=CloudEvent[Any])
P = TypeVar("P")

_YIELD_EVERY = 50  # records decoded between two turns of the event loop (under a millisecond)

# (topic, event id) pairs; a row from before topics were recorded ('') still counts on any topic.
_CLAIM_MANY = """INSERT INTO inbox (consumer, topic, event_id)
SELECT $1, c.topic, c.event_id FROM unnest($2::text[], $3::text[]) AS c(topic, event_id)
WHERE NOT EXISTS (SELECT 1 FROM inbox l WHERE l.consumer = $1 AND l.topic = '' AND l.event_id = c.event_id)
ON CONFLICT DO NOTHING RETURNING topic, event_id"""
# The positions a batch reads, created at 0 if new and locked (the no-op update), in one
# order: a second consumer of the same partition (a rebalance, a replica still finishing
# its batch) waits here until the first commits, then reads the position it left.
_LOCK_POSITIONS = """INSERT INTO consumer_positions (consumer, topic, partition, publisher, publication)
SELECT $1, p.topic, p.partition, p.publisher, 0
FROM unnest($2::text[], $3::int[], $4::text[]) AS p(topic, partition, publisher) ORDER BY 2, 3, 4
ON CONFLICT (consumer, topic, partition, publisher) DO UPDATE SET publication = consumer_positions.publication
RETURNING topic, partition, publisher, publication"""
_SAVE_POSITIONS = """UPDATE consumer_positions c SET publication = p.publication
FROM unnest($2::text[], $3::int[], $4::text[], $5::bigint[]) AS p(topic, partition, publisher, publication)
WHERE c.consumer = $1 AND c.topic = p.topic AND c.partition = p.partition AND c.publisher = p.publisher"""


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
        decoded = await self.decode_each(records, decode)
        return await self._apply_batch_or_each(decoded, effect, consumer)

    async def handle_each_once(
        self, records: Sequence[ConsumerRecord], decode: TypeAdapter[E],
        effect: Callable[[UnitOfWork, E], Awaitable[None]], consumer: str | None = None,
        wanted: Callable[[E], bool] | None = None, defer_writes: bool = False,
    ) -> int:
        """Decode each record (dead-lettering those that fail), then apply `effect` to each
        event this consumer has not handled before, in order: each its own effect (and its
        events their causation), but the batch shares one transaction, one claim statement
        and one offset commit, which is what keeps a subscriber ahead of bursts. Events
        not `wanted` (which `effect` would do nothing with) are skipped, not claimed.
        With `defer_writes`, the effects' outbox rows (and rows of deferred tables) are
        written once for the batch, before its commit (`UnitOfWork.deferred`, ADR 0047): only
        for effects that never read back what they or an earlier effect of the batch emitted
        or deferred. Returns how many were applied."""
        decoded = await self.decode_each(records, decode)
        if wanted is not None:
            decoded = [(record, event) for record, event in decoded if wanted(event)]
        keys = {id(event): record.key or b"" for record, event in decoded}

        def applying(savepoints: bool) -> Callable[[UnitOfWork, list[E]], Awaitable[None]]:
            async def apply_each(uow: UnitOfWork, new: list[E]) -> None:
                writes = Deferred() if defer_writes else None  # afresh for each attempt
                for event in new:
                    logs.correlation_id.set(event.correlationid or event.id)
                    await effect(UnitOfWork(uow.conn, self.source, cause=event, kafka_key=keys[id(event)],
                                            savepoints=savepoints, deferred=writes), event)
                if writes is not None:
                    assert not writes.claims, "an Idempotency-Key is an HTTP request's, never a Kafka event's"
                    await flush(uow.conn, [writes])
            return apply_each

        try:
            # First without a savepoint per command (two round trips each; rejections.py) ...
            return await self._apply_batch_or_each(decoded, applying(savepoints=False), consumer)
        except RefusedWithoutSavepoint:
            # ... and where one was refused, all of it undone and run again, each in its own.
            return await self._apply_batch_or_each(decoded, applying(savepoints=True), consumer)

    async def handle_batch_counted(
        self, records: Sequence[ConsumerRecord], decode: TypeAdapter[E],
        effect: Callable[[UnitOfWork, P], Awaitable[None]], idempotent: Callable[[E], bool],
        preparing: Callable[[], Preparing[P]], consumer: str | None = None,
    ) -> int:
        """Like `handle_batch_once`, without a row per event (ADR 0021). In one transaction:
        a record the relay numbered (`publisher`, `publication` headers) is applied only above
        the consumer's position for its topic, partition and publisher, which moves up with
        the effects; one that is not numbered is applied if `idempotent(event)` (its effect
        counts it once however often it comes), otherwise only if its id is claimed in the
        inbox, as before. `effect` gets what `preparing` makes of the new events (`Listing`:
        their list). Returns how many were applied (duplicates of idempotent events among
        them)."""
        batch = await self.decode_counted(records, decode, preparing, idempotent)
        return await self.apply_counted(batch, effect, consumer)

    async def decode_counted(
        self, records: Sequence[ConsumerRecord], decode: TypeAdapter[E], preparing: Callable[[], Preparing[P]],
        idempotent: Callable[[E], bool],
    ) -> CountedBatch[E, P]:
        """The first half of `handle_batch_counted`: decoded, and prepared as it is decoded,
        so that a consumer can do this for the next batch while this one's transaction runs
        (services/runtime/pipelined.py)."""
        batch = CountedBatch[E, P](decode, preparing, idempotent)
        await self.decode_each(records, decode, then=batch.add)
        return batch.done()

    async def apply_counted(
        self, batch: CountedBatch[E, P], effect: Callable[[UnitOfWork, P], Awaitable[None]],
        consumer: str | None = None,
    ) -> int:
        """The second half of `handle_batch_counted`."""
        return await self._whole_or_each(
            lambda: self._apply_counted(batch, effect, consumer), batch.pairs,
            lambda record, event: self._apply_counted(batch.part(record, event), effect, consumer))

    async def _apply_counted(
        self, batch: CountedBatch[E, P], effect: Callable[[UnitOfWork, P], Awaitable[None]],
        consumer: str | None,
    ) -> int:
        if not batch.records:
            return 0
        who = consumer or self.service
        keys = sorted(batch.highest)

        async def attempt() -> int:
            async with self.pool.acquire() as conn, conn.transaction():
                position: dict[tuple[str, int, str], int] = {}
                if keys:
                    rows = await conn.fetch(_LOCK_POSITIONS, who, *map(list, zip(*keys, strict=True)))
                    position = {(r["topic"], r["partition"], r["publisher"]): r["publication"] for r in rows}
                if batch.all_new(position):  # the usual case: prepared before the transaction
                    new, prepared, moved = len(batch.records), batch.prepared, batch.highest
                else:
                    events, moved = await self._new_counted(conn, who, batch, position)
                    new = len(events)
                    prepared = batch.prepared_for(events)
                if new:
                    await effect(UnitOfWork(conn, self.source), prepared)
                if moved:
                    await conn.execute(_SAVE_POSITIONS, who, *map(list, zip(*((*k, n) for k, n in moved.items()),
                                                                            strict=True)))
                return new

        return await self._counted(attempt, len(batch.records))

    @staticmethod
    async def _new_counted(
        conn: Connection, who: str, batch: CountedBatch[E, P], position: dict[tuple[str, int, str], int],
    ) -> tuple[list[E], dict[tuple[str, int, str], int]]:
        """The events of `batch` not applied before, in order, and the positions they move:
        numbered ones above `position` (once each), the rest idempotent or claimed here."""
        pairs = batch.pairs()
        fresh: set[tuple[str, str]] = set()
        unnumbered = _unique([(r.topic, e) for (r, e), p in zip(pairs, batch.publications, strict=True)
                              if p is None and not batch.idempotent(e)])
        if unnumbered:
            claimed = await conn.fetch(_CLAIM_MANY, who, [t for t, _ in unnumbered], [e.id for _, e in unnumbered])
            fresh = {(row["topic"], row["event_id"]) for row in claimed}
        new, moved = [], {}
        for (record, event), publication in zip(pairs, batch.publications, strict=True):
            if publication is not None:
                key = (record.topic, record.partition, publication[0])
                if publication[1] <= position[key]:
                    continue  # applied before: redelivered, or re-sent by the relay
                position[key] = moved[key] = publication[1]
            elif not batch.idempotent(event):
                if (record.topic, event.id) not in fresh:
                    continue
                fresh.discard((record.topic, event.id))  # twice in this batch: once
            new.append(event)
        return new, moved

    async def _apply_batch_or_each(
        self, decoded: list[tuple[ConsumerRecord, E]], effect: Callable[[UnitOfWork, list[E]], Awaitable[None]],
        consumer: str | None,
    ) -> int:
        return await self._whole_or_each(
            lambda: self._apply_batch([(record.topic, event) for record, event in decoded], effect, consumer),
            lambda: decoded,
            lambda record, event: self._apply_batch([(record.topic, event)], effect, consumer))

    async def _whole_or_each(
        self, whole: Callable[[], Awaitable[int]], pairs: Callable[[], list[tuple[ConsumerRecord, E]]],
        one: Callable[[ConsumerRecord, E], Awaitable[int]],
    ) -> int:
        """The batch in one transaction (`whole`); if that fails for good (a bug, a value the
        database cannot store), once more one event per transaction (`one` of each of
        `pairs()`), so that only the failing events are dead-lettered and the good ones beside
        them count (the middleware would dead-letter the whole batch)."""
        try:
            return await whole()
        except Exception as error:
            if is_transient(error) or isinstance(error, RefusedWithoutSavepoint):
                raise  # retried until the deadline already: back to Kafka; or to run with savepoints
        applied = 0
        for record, event in pairs():
            try:
                applied += await one(record, event)
            except Exception as error:
                if is_transient(error) or isinstance(error, RefusedWithoutSavepoint):
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

        async def attempt() -> int:
            async with self.pool.acquire() as conn, conn.transaction():
                unique = _unique(events)
                claimed = await conn.fetch(_CLAIM_MANY, consumer or self.service, [t for t, _ in unique],
                                           [e.id for _, e in unique])
                fresh = {(row["topic"], row["event_id"]) for row in claimed}
                new = [e for t, e in unique if (t, e.id) in fresh]
                if new:
                    await effect(UnitOfWork(conn, self.source), new)
                return len(new)

        return await self._counted(attempt, len(events))

    async def _counted(self, attempt: Callable[[], Awaitable[int]], received: int) -> int:
        """Run a batch's transaction (retried through transient faults) and count it: its time,
        the events it applied (what `attempt` returns) and the `received` ones it found
        already applied."""
        started = time.perf_counter()
        new = await retry_transient(attempt, self.retry_deadline_seconds)
        metrics.HANDLER_SECONDS.labels(self.service, "batch").observe(time.perf_counter() - started)
        metrics.HANDLED.labels(self.service, "batch", "applied").inc(new)
        metrics.HANDLED.labels(self.service, "batch", "duplicate").inc(received - new)
        return new

    async def decode_each(
        self, records: Sequence[ConsumerRecord], decode: TypeAdapter[E],
        then: Callable[[ConsumerRecord, E], None] | None = None,
    ) -> list[tuple[ConsumerRecord, E]]:
        """Each record validated with `decode` and checked as a received CloudEvent, paired with
        its event; one that fails is dead-lettered with its reason, a tombstone skipped. With
        `then`, each pair is handed to it as it is decoded instead of kept (returns [])."""
        decoded: list[tuple[ConsumerRecord, E]] = []
        latest = datetime.now(UTC) + AHEAD_TOLERATED  # an event ordered by a time after it is refused
        for n, record in enumerate(records, 1):
            if n % _YIELD_EVERY == 0:
                # Let a transaction in flight (services/runtime/pipelined.py) send its next
                # statement: otherwise Postgres idles while a whole batch is decoded.
                await asyncio.sleep(0)
            if record.value is None:  # a tombstone: compaction deletes a key; there is no event to apply
                metrics.TOMBSTONES.labels(self.service, record.topic).inc()
                continue
            try:
                event = decode.validate_json(record.value or b"")
                check_received(event, latest)
            except ValueError as error:  # pydantic's ValidationError is one
                await self.dead_letters.send(record, error)
                continue
            if then is None:
                decoded.append((record, event))
            else:
                then(record, event)
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
