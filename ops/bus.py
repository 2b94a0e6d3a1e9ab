"""Talking to the platform over Kafka, as any other system would: publish CloudEvents,
and follow a topic from now on, collecting what arrives by type."""

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.envelope import CONTENT_TYPE, CloudEvent

# A CloudEvent as decoded JSON (its `data` is whatever the event type's contract holds).
Event = dict[str, Any]
# Called with (events seen so far, events awaited).
Progress = Callable[[int, int], None]


async def publish(bootstrap: str, topic: str, events: Iterable[CloudEvent[Any]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        # Keyed by subject, with the content-type header, as docs/partners.md asks any publisher.
        headers = [("content-type", CONTENT_TYPE.encode())]
        sent = [await producer.send(topic, e.to_bytes(), key=e.subject.encode(), headers=headers) for e in events]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


class Tail:
    """Everything published on `topics` after `start()`, as decoded JSON, by event type."""

    def __init__(self, bootstrap: str, *topics: str) -> None:
        self.bootstrap = bootstrap
        self.consumer: AIOKafkaConsumer | None = None  # made in start(): an unstarted one warns when collected
        self.topics = topics
        self.seen: dict[str, list[Event]] = defaultdict(list)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> "Tail":
        partitions = await _partitions(self.bootstrap, self.topics)
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False)
        await self.consumer.start()
        self.consumer.assign(partitions)
        await self.consumer.seek_to_end(*partitions)
        for tp in partitions:  # resolve the end positions now, before anything is published
            await self.consumer.position(tp)
        self._task = asyncio.create_task(self._collect(self.consumer))
        return self

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        if self.consumer:
            await self.consumer.stop()

    def of(self, event_type: str) -> list[Event]:
        return self.seen.get(event_type, [])

    async def wait_for(self, event_type: str, count: int, timeout: float = 120.0,
                       on_progress: Progress | None = None) -> list[Event]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.of(event_type)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"saw {len(self.of(event_type))} of {count} {event_type} within {timeout:.0f}s")
            if on_progress:
                on_progress(len(self.of(event_type)), count)
            await asyncio.sleep(0.2)
        if on_progress:
            on_progress(count, count)
        return self.of(event_type)

    async def wait_for_match(self, event_type: str, matches: Callable[[Event], bool], timeout: float = 60.0) -> Event:
        """The first event of `event_type` for which `matches(event)` is true."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (found := [e for e in self.of(event_type) if matches(e)]):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no matching {event_type} within {timeout:.0f}s")
            await asyncio.sleep(0.2)
        return found[0]

    async def wait_for_all(self, counts: dict[str, int], timeout: float = 120.0,
                           on_progress: Progress | None = None) -> None:
        """Until at least `counts[type]` events of each type arrived."""
        total = sum(counts.values())

        def progress(*_: int) -> None:
            if on_progress:
                on_progress(sum(min(len(self.of(t)), n) for t, n in counts.items()), total)

        for event_type, count in counts.items():
            await self.wait_for(event_type, count, timeout, progress)

    async def _collect(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    if record.value:
                        event = json.loads(record.value)
                        self.seen[event.get("type", "?")].append(event)


async def _partitions(bootstrap: str, topics: Iterable[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    missing = [d["topic"] for d in described if d.get("error_code")]
    if missing:
        raise RuntimeError(f"topics {missing} do not exist: run `advocacy topics`")
    return [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
