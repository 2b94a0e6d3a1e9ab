"""How a service subscribes: at-least-once delivery, a consumer group per subscriber,
every message decoded as a CloudEvent in structured JSON mode."""

import json
from typing import Any

from faststream import AckPolicy, StreamMessage
from faststream.kafka import KafkaRouter

from schemas.envelope import check_received


async def decode_json(message: StreamMessage[Any]) -> Any:
    """Every message is a CloudEvent in structured JSON mode, whatever its content-type
    header says (FastStream would hand `application/cloudevents+json` over as bytes).
    A batch stays raw: `Inbox.handle_batch_once` decodes each record, so that one bad
    record is dead-lettered alone instead of sinking its batch."""
    if isinstance(message.body, list):
        return message.body
    body = json.loads(message.body)
    if isinstance(body, dict):
        check_received(body)
    return body


class ServiceRouter(KafkaRouter):
    """A router whose subscribers default to at-least-once delivery, each in a consumer
    group of its own (`<service>.<topic>`): FastStream runs one consumer per subscriber,
    and sharing one group would make every subscriber's join rebalance all the others."""

    def __init__(self, service: str, **options: Any) -> None:
        super().__init__(**options)
        self.service = service

    def subscriber(self, *topics: str, **options: Any) -> Any:
        options.setdefault("group_id", f"{self.service}.{topics[0]}")
        options.setdefault("auto_offset_reset", "earliest")  # a new group must not skip history
        options.setdefault("ack_policy", AckPolicy.NACK_ON_ERROR)
        return super().subscriber(*topics, **options)
