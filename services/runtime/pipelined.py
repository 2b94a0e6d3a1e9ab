"""A consumer loop of our own for a busy counted topic (ADR 0026): it decodes the next
batch while the database commits this one.

FastStream's batch subscriber handles one batch at a time (fetch, decode, transaction,
offset commit, then the next fetch) and ignores `max_workers` (ag2ai/faststream#3164), so
the process's one core waits while Postgres commits and Postgres waits while Python
decodes. Here the transaction of batch N runs as a task while batch N+1 is fetched,
decoded and prepared (its publication numbers read, its effect's preparation made, such as
metrics' tally: services/runtime/counted_batch.py); batch N+1's transaction starts only
once N's has committed, so transactions of one consumer never overlap. N's offsets go to
Kafka while N+1's transaction runs (ADR 0026's addendum of 2026-12-04).

What stays as in every subscriber (routing.py, inbox.py, ADR 0021):
- Offsets are committed to Kafka only after the batch's transaction committed. A batch
  delivered again (a crash, a rebalance, a commit that failed) is deduplicated by the
  positions and ids stored with its effects; the Kafka offset only saves work.
- A record that does not decode or validate is dead-lettered with its reason and the
  consumer carries on; a batch that fails for good is applied one event at a time, so
  only the failing events are dead-lettered (`Inbox.apply_counted`).
- A transient fault (database or broker away) is retried until the retry deadline, then
  the batch and the one decoded behind it are fetched again from their first offsets,
  after a back-off. Nothing stops the loop but `stop()`.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import TypeAdapter

from services.runtime.counted_batch import Preparing
from services.runtime.inbox import Inbox
from services.runtime.retry import backoff

log = logging.getLogger(__name__)

InFlight = tuple["asyncio.Task[int]", dict[TopicPartition, tuple[int, int]]]  # a transaction, its offsets
_WAIT_MS = 500  # how long a fetch waits for records when nothing is in flight
_OFFSET = attrgetter("offset")
_SLICE = 250  # records taken from aiokafka between two turns of the event loop (about 2 ms)


class PipelinedSubscriber:
    """One topic's consumer group `group_id`, batches of up to `max_records`, each prepared by
    `preparing` as it is decoded and counted by `handler(uow, prepared)` through
    `Inbox.apply_counted` (`idempotent` as there)."""

    def __init__(self, name: str, topic: str, group_id: str, contracts: Any,
                 preparing: Callable[[], Preparing[Any]], handler: Any, idempotent: Callable[[Any], bool],
                 max_records: int) -> None:
        self.name = name
        self.topic = topic
        self.group_id = group_id
        self.decoder = TypeAdapter[Any](contracts)
        self.preparing = preparing
        self.handler = handler
        self.idempotent = idempotent
        self.max_records = max_records
        # Failures since a batch was last committed: every wait grows with them, so a fault that
        # comes back each time (a refused ACL, a record that breaks dead-lettering) neither
        # spins nor makes the group rebalance several times a second.
        self.failures = 0
        self._committing: asyncio.Task[None] | None = None  # offsets of a batch, on their way to Kafka

    async def run(self, inbox: Inbox, options: dict[str, Any], started: asyncio.Event | None = None) -> None:
        """Consume until cancelled. `options`: aiokafka's connection options (bootstrap
        servers, client id, security); `started` is set once the consumer has started, as a
        FastStream subscriber's `start()` returns then (its group join follows, in both)."""
        while True:  # a consumer that could not start (the broker away) tries again
            consumer = AIOKafkaConsumer(
                self.topic, group_id=self.group_id, enable_auto_commit=False, auto_offset_reset="earliest",
                max_partition_fetch_bytes=4 * 1024 * 1024, **options)
            try:
                await consumer.start()
                if started is not None:
                    started.set()
                await self._consume(consumer, inbox)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the loop itself never stops on a fault: log, wait, again
                log.warning("%s: consumer of %s failed, starting it again: %r", self.name, self.topic, error)
                self.failures += 1
                await asyncio.sleep(backoff(self.failures, first=0.5, cap=30.0))
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer, inbox: Inbox) -> None:
        in_flight: InFlight | None = None  # the previous batch's transaction, and its records' offsets
        try:
            while True:
                # With a transaction in flight, take only what is fetched already: when nothing
                # is, that batch is finished (its offsets sent to Kafka) before the wait, not after.
                fetched = await self._fetch(consumer, 0 if in_flight else _WAIT_MS)
                if not fetched and in_flight is not None:
                    await self._settle(consumer, in_flight)
                    in_flight = None
                    continue
                # The lowest and highest offset of each partition's records, not the first and the
                # last: a rebalance between two slices may hand a partition back from its committed
                # offset, so its records can go back within one batch.
                spans = {tp: (min(records, key=_OFFSET).offset, max(records, key=_OFFSET).offset)
                         for tp, records in fetched.items() if records}
                records = [record for batch in fetched.values() for record in batch]
                batch = await inbox.decode_counted(records, self.decoder, self.preparing, self.idempotent)
                if in_flight is not None:
                    failed = await self._settle(consumer, in_flight, spans)
                    in_flight = None
                    if failed:
                        continue  # this batch is fetched again too
                if spans:
                    in_flight = (asyncio.create_task(inbox.apply_counted(batch, self.handler)), spans)
        finally:
            if in_flight is not None:  # stopping mid-transaction: rolled back, its records come again
                in_flight[0].cancel()
                with contextlib.suppress(BaseException):
                    await in_flight[0]
            await self._let_commit_finish()

    async def _fetch(self, consumer: AIOKafkaConsumer, wait_ms: int) -> dict[TopicPartition, list[ConsumerRecord]]:
        """Up to `max_records` of what aiokafka has fetched, taken `_SLICE` at a time with a
        turn of the event loop between: aiokafka builds the records as they are taken (8 µs
        each, all in one call), and a transaction in flight cannot send its next statement
        until the loop turns."""
        fetched: dict[TopicPartition, list[ConsumerRecord]] = await consumer.getmany(
            timeout_ms=wait_ms, max_records=min(_SLICE, self.max_records))
        taken = sum(map(len, fetched.values()))
        while 0 < taken < self.max_records:
            await asyncio.sleep(0)
            more = await consumer.getmany(timeout_ms=0, max_records=min(_SLICE, self.max_records - taken))
            if not more:
                break
            for tp, records in more.items():
                fetched.setdefault(tp, []).extend(records)
                taken += len(records)
        return fetched

    async def _settle(self, consumer: AIOKafkaConsumer, in_flight: "InFlight",
                      *behind: dict[TopicPartition, tuple[int, int]]) -> bool:
        """Finish the batch in flight (`_finish`). If it failed, it and the batches `behind` it
        (decoded meanwhile) are fetched again from their first offsets after a back-off; True."""
        if not await self._finish(consumer, *in_flight):
            return False
        self._rewind(consumer, in_flight[1], *behind)
        self.failures += 1
        await asyncio.sleep(backoff(self.failures, first=0.2, cap=30.0))
        return True

    async def _finish(self, consumer: AIOKafkaConsumer, pending: "asyncio.Task[int]",
                      spans: dict[TopicPartition, tuple[int, int]]) -> bool:
        """Await the transaction, then have its offsets committed to Kafka (`_commit`). True if
        it failed (its records must be fetched again)."""
        try:
            await pending
        except Exception as error:  # transient beyond the retry deadline (inbox.py): not committed
            log.warning("%s: batch of %s not applied, fetching it again: %r", self.name, self.topic, error)
            return True
        self.failures = 0
        await self._committed()  # the batch before's offsets first: they go to Kafka in order
        assigned = consumer.assignment()  # read after that wait, during which a rebalance may come
        offsets = {tp: last + 1 for tp, (_, last) in spans.items() if tp in assigned}
        if offsets:
            self._committing = asyncio.create_task(self._commit(consumer, offsets))
        return False

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        """Commit offsets to Kafka while the next batch's transaction runs: a round trip to the
        group coordinator (about 2 ms) that Postgres need not wait for. A batch is deduplicated
        by the positions stored with its effects, not by this offset, which only saves work."""
        try:
            await consumer.commit(offsets)
        except Exception as error:  # a rebalance took the partition, the consumer is stopping...: never fatal
            log.warning("%s: offsets of %s not committed (delivered again, counted once): %r",
                        self.name, self.topic, error)

    async def _committed(self) -> None:
        """Wait for the offsets being committed, if any."""
        if self._committing is not None:
            await self._committing
            self._committing = None

    async def _let_commit_finish(self) -> None:
        """On the way out: the offsets being committed, if any, get a moment (`_WAIT_MS`), then
        are given up. `asyncio.wait` neither raises the commit's error nor swallows a
        cancellation of the loop itself, which must stop it."""
        committing, self._committing = self._committing, None
        if committing is None:
            return
        try:
            await asyncio.wait({committing}, timeout=_WAIT_MS / 1000)
        finally:
            committing.cancel()  # a no-op once it is done

    @staticmethod
    def _rewind(consumer: AIOKafkaConsumer, *batches: dict[TopicPartition, tuple[int, int]]) -> None:
        """Fetch again from the first offset of each partition in `batches` (the earlier first)."""
        assigned = consumer.assignment()
        first: dict[TopicPartition, int] = {}
        for spans in batches:
            for tp, (start, _) in spans.items():
                first[tp] = min(start, first.get(tp, start))
        for tp, offset in first.items():
            if tp in assigned:
                consumer.seek(tp, offset)


# Objects the collector tracks that a counted consumer keeps alive, a record of its batch
# size: two batches live at once (the one decoded, the one in its transaction), each record
# with aiokafka's record and headers and the tally's keys and rows, about 7 tracked objects.
# Sampled with one consumer's batches of 10,000 busy: up to 140,284 young objects alive.
_ALIVE_PER_RECORD = 15


def young_collection_threshold(consumers: Sequence[PipelinedSubscriber], least: int) -> int:
    """How many more tracked objects may be alive than after the last young collection before
    the next one (`gc.set_threshold`'s first argument; Python's default is 700): `least`, or,
    with counted consumers, what all of them keep alive at most (`_ALIVE_PER_RECORD` a record
    of each one's `max_records`): 300,000 for metrics' two consumers of 10,000, twice what one
    of them busy keeps.

    Those objects die when their transaction ends. A young collection taken while they live
    walks each of them and moves it to an older generation, where a later collection walks
    it again: at 10,000 that took 0.45–0.51 s of metrics' CPU in ingesting 200,000 events
    (timed with gc.callbacks), 2–3 µs an event; at 100,000 one young collection ran in that
    time (17.7 ms), at 200,000 and 300,000 none. The price: a longer pause of the event loop
    (the HTTP API's too) when one runs, some 50 ms at 300,000 at that rate, and cyclic
    garbage kept until one runs (counted in objects, not bytes)."""
    return max(least, _ALIVE_PER_RECORD * sum(c.max_records for c in consumers))
