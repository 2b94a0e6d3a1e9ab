"""What a principal of the secured broker may do, found out by doing it: write a record,
read one. Each answer is True or False; anything but an authorization refusal raises."""

import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import ClusterAuthorizationFailedError, TopicAuthorizationFailedError

from harness.kafka import eventually


async def can_write(bootstrap: str, topic: str, **security: Any) -> bool:
    # Idempotent, as the services' producers are: Kafka 4 grants that with Write on any topic,
    # so a principal that writes nothing (partner) is refused a producer id at start.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, **security)
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"access check", key=b"security-test")
        return True
    except (TopicAuthorizationFailedError, ClusterAuthorizationFailedError):
        return False
    finally:
        await producer.stop()


async def can_read(bootstrap: str, topic: str, group: str, **security: Any) -> bool:
    """Reads as the services do (subscribed, in consumer group `group`); the topic must hold a
    record, so that reading is proven by getting one, not by the absence of an error."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"{group}{uuid.uuid4().hex[:8]}",
                                auto_offset_reset="earliest", enable_auto_commit=False, **security)
    got: list[bool] = []

    async def answered() -> bool:
        try:
            batches = await consumer.getmany(timeout_ms=200)
        except TopicAuthorizationFailedError:
            got.append(False)
        else:
            if any(batches.values()):
                got.append(True)
        return bool(got)

    try:
        await consumer.start()
        await eventually(answered, timeout=30, what=f"a record or a refusal on {topic}")
        return got[0]
    except TopicAuthorizationFailedError:  # refused before joining: not even allowed to describe it
        return False
    finally:
        await consumer.stop()
