"""Small helpers for tests that talk to the real broker."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import RecordMetadata


async def produce(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes | None]],
                  **security: Any) -> list[RecordMetadata]:
    """Send (key, value) pairs and wait until all are acknowledged. `security`: aiokafka's
    SASL options, to act as a principal of the secured broker (deploy/local/secure_kafka.py)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, **security)
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=key) for key, value in messages]
        return list(await asyncio.gather(*sent))
    finally:
        await producer.stop()


async def read_topic(bootstrap: str, topic: str, at_least: int, timeout: float = 30.0,
                     settle: float = 0.0, **security: Any) -> list[ConsumerRecord]:
    """Everything on `topic` from the beginning: at least `at_least` records, plus what
    arrives within `settle` seconds after that. `security`: as for `produce`."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None, **security)
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        deadline = time.monotonic() + timeout
        while len(records) < at_least and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            records.extend(r for batch in batches.values() for r in batch)
        settle_until = time.monotonic() + settle
        while time.monotonic() < settle_until:
            batches = await consumer.getmany(timeout_ms=100)
            records.extend(r for batch in batches.values() for r in batch)
    finally:
        await consumer.stop()
    return records


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.1)


async def end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    """Where each partition of `topic` ends now."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        [description] = await admin.describe_topics([topic])
        ends: dict[TopicPartition, int] = await consumer.end_offsets(
            [TopicPartition(topic, p["partition"]) for p in description["partitions"]])
        return ends
    finally:
        await consumer.stop()
        await admin.close()


async def message_count(bootstrap: str, topic: str) -> int:
    """How many records `topic` holds now (sum of its partitions' end offsets)."""
    return sum((await end_offsets(bootstrap, topic)).values())


async def drained(bootstrap: str, group: str, topic: str) -> bool:
    """Whether consumer group `group` has committed every record now on `topic`: each of the
    platform's subscribers commits after its transaction, so whatever came before is applied,
    dead-lettered or passed over, whether or not it left an inbox row (ADR 0021)."""
    ends = await end_offsets(bootstrap, topic)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return all(offsets.get(tp) is not None and offsets[tp].offset >= end for tp, end in ends.items() if end)
