"""Kafka topics as declared in schemas/platform.toml: create what is missing, describe what exists."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import for_code

from schemas.platform import Topic

TOPIC_ALREADY_EXISTS = 36  # Kafka error code; another `up` may have won the race


async def ensure_topics(bootstrap: str, topics: Iterable[Topic], **security: Any) -> list[str]:
    """Create the missing topics (replication 1 on the single local broker); returns their names.

    Existing topics are left alone, even if their settings differ: `status` reports a
    partition-count mismatch, and changing a live topic is a deliberate act, not a side effect.
    """
    # `security`: aiokafka's SASL options, for a broker that wants them (secure_kafka.py).
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t.name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [NewTopic(t.name, t.partitions, 1, topic_configs=t.kafka_configs) for t in missing]
        )
        created = []
        for name, code, *rest in response.topic_errors:
            if code == 0:
                created.append(name)
            elif code != TOPIC_ALREADY_EXISTS:
                message = rest[0] if rest else ""
                raise for_code(code)(f"creating topic {name}: {message}")
        return created
    finally:
        await admin.close()


async def describe(bootstrap: str) -> dict[str, int]:
    """Topic name -> partition count, for every non-internal topic on the broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        return {
            t["topic"]: len(t["partitions"])
            for t in await admin.describe_topics()
            if not t.get("is_internal") and t["error_code"] == 0
        }
    finally:
        await admin.close()
