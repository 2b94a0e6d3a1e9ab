"""Metrics runs only once its consumers of its own (the busy counted topics, ADR 0026)
have started, as FastStream's subscribers have: its /ready answered before those had even
created their consumer (6-19 ms before, measured on `make run`)."""

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer

from services.metrics.app import build_service
from services.metrics.config import MetricsSettings, MetricsTopics
from services.runtime import pipelined
from tests.integration.rig import ServiceRig, make_rig


@pytest.fixture
async def rig(stack, scratch_schema, make_topics):
    """Metrics on a fresh schema and topics, not yet started."""
    async with make_rig(ServiceRig, stack, scratch_schema, make_topics, build_service,
                        MetricsSettings, MetricsTopics) as made:
        yield made


async def test_running_only_once_every_consumer_of_its_own_has_started(rig, monkeypatch):
    started: list[AIOKafkaConsumer] = []
    start = AIOKafkaConsumer.start

    async def slow_start(consumer: AIOKafkaConsumer) -> None:  # a slow host's consumer start
        await asyncio.sleep(1.0)
        await start(consumer)
        started.append(consumer)

    monkeypatch.setattr(pipelined.AIOKafkaConsumer, "start", slow_start)
    async with rig.running() as service:
        own = {subscriber.topic for subscriber in service.pipelined}
        consuming = {topic for consumer in started for topic in consumer.subscription()}
    assert own and own <= consuming
