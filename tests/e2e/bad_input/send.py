"""Sending a batch: one idempotent producer, every input acknowledged, and each input told
the partition and offset it landed at (how a dead letter is traced back to it)."""

import asyncio

from aiokafka import AIOKafkaProducer

from schemas.platform import load_platform
from tests.e2e.bad_input.inputs import Input

BROKER_LIMIT = 1_048_476  # the largest value (with a short key) the default producer and broker take


async def send(bootstrap: str, inputs: list[Input]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=20)
    await producer.start()
    try:
        pending = [await producer.send(i.topic, i.value, key=_key(i), partition=i.partition) for i in inputs]
        for sent, metadata in zip(inputs, await asyncio.gather(*pending), strict=True):
            sent.sent_partition, sent.offset = metadata.partition, metadata.offset
    finally:
        await producer.stop()


def _key(i: Input) -> bytes | None:
    """A compacted topic refuses a message without a key at the door (the broker's
    InvalidRecord): a keyless input there gets a key, to reach the services at all."""
    compacted = {t.name for t in load_platform().topics if t.cleanup_policy == "compact"}
    return i.key if i.key is not None or i.topic not in compacted else b"unkeyed"
