"""The pipelined consumer loop (services/runtime/pipelined.py, ADR 0026): how it takes
batches from aiokafka, and when their offsets go to Kafka: after their own transaction, in
order, beside the next batch's transaction, and as soon as nothing else is waiting to be
decoded (it used to wait for the next fetch first, half a second when the topic had gone
quiet)."""

import asyncio
from typing import Any

import pytest
from aiokafka import TopicPartition

from services.metrics.app import build_service
from services.metrics.config import MetricsSettings
from services.runtime import pipelined
from services.runtime.pipelined import PipelinedSubscriber

TP = TopicPartition("counted", 0)


class Record:
    def __init__(self, offset: int) -> None:
        self.offset = offset


class Consumer:
    """aiokafka's consumer as the loop uses it: `batches` are what it has fetched from the
    broker, one after the other, each handed out up to `max_records` at a time (None: a
    moment when nothing has come yet); once they are gone, a fetch that may wait (timeout >
    0) waits until the test ends."""

    def __init__(self, *batches: list[int] | None) -> None:
        self.batches = [None if batch is None else [Record(offset) for offset in batch] for batch in batches]
        self.asked: list[int] = []
        self.sizes: list[int] = []  # max_records of each fetch
        self.committed: list[dict[TopicPartition, int]] = []
        self.waiting = asyncio.Event()  # set when a fetch waits with nothing to give

    async def getmany(self, timeout_ms: int, max_records: int | None = None) -> dict[TopicPartition, list[Any]]:
        self.asked.append(timeout_ms)
        self.sizes.append(max_records or 0)
        if self.batches:
            batch = self.batches[0]
            if batch is None or len(batch) <= (max_records or len(batch)):
                self.batches.pop(0)
                return {TP: batch} if batch else {}
            self.batches[0] = batch[max_records:]
            return {TP: batch[:max_records]}
        if timeout_ms:
            self.waiting.set()
            await asyncio.Event().wait()  # a quiet topic
        return {}

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed.append(offsets)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        raise AssertionError("nothing fails here: nothing is fetched again")


class Inbox:
    """Decodes nothing; applies a batch by recording its records' offsets."""

    def __init__(self) -> None:
        self.applied: list[list[int]] = []

    async def decode_counted(self, records: list[Record], *_: Any) -> list[Record]:
        return records

    async def apply_counted(self, batch: list[Record], handler: Any) -> int:
        await asyncio.sleep(0)  # a transaction takes a turn of the loop at least
        self.applied.append([record.offset for record in batch])
        return len(batch)


async def consumed(consumer: Consumer, max_records: int = 100) -> Inbox:
    """Run the loop until it waits on a quiet topic; the inbox it applied batches through."""
    subscriber = PipelinedSubscriber("metrics", "counted", "metrics.counted", int, lambda: None, None,
                                     lambda event: True, max_records=max_records)
    inbox = Inbox()
    loop = asyncio.create_task(subscriber._consume(consumer, inbox))  # type: ignore[arg-type]
    await asyncio.wait_for(consumer.waiting.wait(), timeout=5)
    loop.cancel()
    return inbox


async def test_the_last_batch_is_committed_before_the_loop_waits_for_more() -> None:
    consumer = Consumer([0, 1, 2], None, [3, 4])

    inbox = await consumed(consumer)

    assert inbox.applied == [[0, 1, 2], [3, 4]]
    assert consumer.committed == [{TP: 3}, {TP: 5}]  # both, while nothing more came


async def test_with_a_transaction_in_flight_a_fetch_takes_only_what_is_there() -> None:
    consumer = Consumer([0, 1], None, [2])

    await consumed(consumer)

    # the first fetch waits (nothing in flight), and takes more while there is more; the next
    # ones only look, while a batch commits; the last waits again, once everything is committed
    assert consumer.asked == [500, 0, 0, 0, 0, 500]


async def test_a_batch_is_taken_a_slice_at_a_time_up_to_its_size(monkeypatch: Any) -> None:
    monkeypatch.setattr(pipelined, "_SLICE", 2)
    consumer = Consumer([0, 1, 2, 3, 4, 5, 6])

    inbox = await consumed(consumer, max_records=5)

    assert inbox.applied == [[0, 1, 2, 3, 4], [5, 6]]
    assert consumer.sizes[:3] == [2, 2, 1]  # a slice, another, what is left of the batch's size


async def test_a_partition_handed_back_mid_batch_is_committed_past_its_highest_offset() -> None:
    """A rebalance between two slices may hand a partition back from its committed offset:
    its records go back within the batch. Everything up to the highest was applied (by this
    batch or the one before it, committed first), so that is where its offset goes."""
    consumer = Consumer([100, 101], [0, 1])

    inbox = await consumed(consumer)

    assert inbox.applied == [[100, 101, 0, 1]]
    assert consumer.committed == [{TP: 102}]


class SlowCommits(Consumer):
    """Each offset commit waits until the test answers it (`answer(n)`, the n-th commit from
    0), as a round trip to the group coordinator takes a while; `started` lists the commits
    sent so far."""

    def __init__(self, *batches: list[int] | None) -> None:
        super().__init__(*batches)
        self.started: list[dict[TopicPartition, int]] = []
        self.answers = [asyncio.Event() for _ in range(4)]

    def answer(self, n: int) -> None:
        self.answers[n].set()

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        n = len(self.started)
        self.started.append(offsets)
        await self.answers[n].wait()
        await super().commit(offsets)


def subscriber() -> PipelinedSubscriber:
    return PipelinedSubscriber("metrics", "counted", "metrics.counted", int, lambda: None, None,
                               lambda event: True, max_records=100)


async def until(condition: Any) -> None:
    async def polled() -> None:
        while not condition():
            await asyncio.sleep(0)

    await asyncio.wait_for(polled(), timeout=5)


async def test_a_batch_s_offsets_go_to_kafka_while_the_next_batch_s_transaction_runs() -> None:
    consumer, inbox = SlowCommits([0, 1], None, [2, 3]), Inbox()
    loop = asyncio.create_task(subscriber()._consume(consumer, inbox))  # type: ignore[arg-type]

    await until(lambda: len(inbox.applied) == 2)
    assert consumer.started == [{TP: 2}]  # the first batch's offsets are still on their way

    consumer.answer(1)  # were the second batch's offsets sent already, they would land first
    await asyncio.sleep(0.01)
    assert consumer.started == [{TP: 2}] and consumer.committed == []  # they wait for the first's

    consumer.answer(0)
    await asyncio.wait_for(consumer.waiting.wait(), timeout=5)
    loop.cancel()
    assert consumer.committed == [{TP: 2}, {TP: 4}]


async def test_a_stopping_consumer_gives_a_commit_that_gets_no_answer_half_a_second() -> None:
    consumer, inbox = SlowCommits([0, 1]), Inbox()
    loop = asyncio.create_task(subscriber()._consume(consumer, inbox))  # type: ignore[arg-type]
    await asyncio.wait_for(consumer.waiting.wait(), timeout=5)  # applied; its offsets sent, no answer
    assert consumer.started == [{TP: 2}]

    started = asyncio.get_running_loop().time()
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(loop, timeout=10)

    assert 0.4 < asyncio.get_running_loop().time() - started < 5  # it waited, and then gave up
    assert consumer.committed == []


class BrokerGone(SlowCommits):
    """Once its batches are gone, a fetch that may wait fails, as when the broker went away."""

    def __init__(self, *batches: list[int] | None) -> None:
        super().__init__(*batches)
        self.failed = asyncio.Event()

    async def getmany(self, timeout_ms: int, max_records: int | None = None) -> dict[TopicPartition, list[Any]]:
        if timeout_ms and not self.batches:
            self.failed.set()
            raise OSError("the broker went away")
        return await super().getmany(timeout_ms, max_records)


async def test_a_stop_while_a_failed_consumer_waits_for_its_last_commit_is_not_swallowed() -> None:
    """The consumer failed and waits for its last commit on its way out when the service
    stops: the stop must end it, or `run()` would start a new consumer after the failure."""
    consumer, inbox = BrokerGone([0, 1]), Inbox()
    loop = asyncio.create_task(subscriber()._consume(consumer, inbox))  # type: ignore[arg-type]
    await asyncio.wait_for(consumer.failed.wait(), timeout=5)
    await asyncio.sleep(0.05)  # on its way out, waiting for the commit that gets no answer

    loop.cancel()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(loop, timeout=5)


def _counted_consumer(max_records: int) -> PipelinedSubscriber:
    return PipelinedSubscriber("counting", "counted", "group", int, lambda: None, None, lambda event: True,
                               max_records)


def test_a_process_without_counted_consumers_or_with_small_batches_keeps_the_least_threshold() -> None:
    assert pipelined.young_collection_threshold([], least=10_000) == 10_000
    assert pipelined.young_collection_threshold([_counted_consumer(100)], least=10_000) == 10_000


def test_young_collections_wait_until_more_is_alive_than_every_counted_consumer_keeps() -> None:
    threshold = pipelined.young_collection_threshold([_counted_consumer(500), _counted_consumer(10_000)],
                                                     least=10_000)
    assert threshold == 15 * 10_500


def test_metrics_young_threshold_is_above_what_one_busy_consumer_was_seen_to_keep_alive() -> None:
    # One of metrics' consumers busy with batches of 10,000 kept up to 140,284 tracked objects
    # alive (sampled): a young collection below that walked every one of them, at 2-3 µs an
    # ingested event; both busy keep about twice that.
    consumers = build_service(MetricsSettings()).pipelined
    assert len(consumers) == 2  # shares and clicks; connectors' observations
    assert pipelined.young_collection_threshold(consumers, least=10_000) == 300_000
