"""The pipelined consumer loop (services/runtime/pipelined.py, ADR 0026) commits a batch's
offsets as soon as its transaction committed when nothing else is waiting to be decoded:
it used to wait for the next fetch first, half a second when the topic had gone quiet."""

import asyncio
from typing import Any

from aiokafka import TopicPartition

from services.runtime.pipelined import PipelinedSubscriber

TP = TopicPartition("counted", 0)


class Record:
    def __init__(self, offset: int) -> None:
        self.offset = offset


class Consumer:
    """aiokafka's consumer as the loop uses it: `batches` are handed out one per fetch;
    once they are gone, a fetch that may wait (timeout > 0) waits until the test ends."""

    def __init__(self, *batches: list[int]) -> None:
        self.batches = [[Record(offset) for offset in batch] for batch in batches]
        self.asked: list[int] = []
        self.committed: list[dict[TopicPartition, int]] = []
        self.waiting = asyncio.Event()  # set when a fetch waits with nothing to give

    async def getmany(self, timeout_ms: int, max_records: int | None = None) -> dict[TopicPartition, list[Any]]:
        self.asked.append(timeout_ms)
        if self.batches:
            return {TP: self.batches.pop(0)}
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


async def consumed(consumer: Consumer) -> Inbox:
    """Run the loop until it waits on a quiet topic; the inbox it applied batches through."""
    subscriber = PipelinedSubscriber("metrics", "counted", "metrics.counted", int, lambda: None, None,
                                     lambda event: True, max_records=100)
    inbox = Inbox()
    loop = asyncio.create_task(subscriber._consume(consumer, inbox))  # type: ignore[arg-type]
    await asyncio.wait_for(consumer.waiting.wait(), timeout=5)
    loop.cancel()
    return inbox


async def test_the_last_batch_is_committed_before_the_loop_waits_for_more() -> None:
    consumer = Consumer([0, 1, 2], [3, 4])

    inbox = await consumed(consumer)

    assert inbox.applied == [[0, 1, 2], [3, 4]]
    assert consumer.committed == [{TP: 3}, {TP: 5}]  # both, while nothing more came


async def test_with_a_transaction_in_flight_a_fetch_takes_only_what_is_there() -> None:
    consumer = Consumer([0, 1], [2])

    await consumed(consumer)

    # first fetch waits (nothing in flight); the next two only look while a batch commits; the
    # last waits again, once everything is committed
    assert consumer.asked == [500, 0, 0, 500]
