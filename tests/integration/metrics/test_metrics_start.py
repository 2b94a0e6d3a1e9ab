"""Metrics runs only once its consumers of its own (the busy counted topics, ADR 0026)
have started, as FastStream's subscribers have: its /ready answered before those had even
created their consumer (6-19 ms before, measured on `make run`). Their stop is bounded as
the broker's is (ADR 0043)."""

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer

from services.metrics.app import build_service
from services.metrics.config import MetricsSettings, MetricsTopics
from services.runtime import pipelined
from services.runtime.service import Bounds
from tests.integration.rig import ServiceRig, make_rig

NOT_HANGING = 10  # seconds: far beyond the bound the test sets, far below aiokafka's 40 s


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


async def test_consumers_of_its_own_that_never_stop_are_left_behind_and_the_broker_still_stops(rig, monkeypatch, caplog):
    frozen: list[AIOKafkaConsumer] = []

    class FrozenOnStop(AIOKafkaConsumer):  # LeaveGroup to a frozen Kafka never answered
        async def stop(self) -> None:
            frozen.append(self)
            await asyncio.Event().wait()

    monkeypatch.setattr(pipelined, "AIOKafkaConsumer", FrozenOnStop)
    service = rig.build()
    service.bounds = Bounds(consumers_stop=1.0)
    subscribers = list(service.broker.subscribers)
    try:
        async with asyncio.timeout(NOT_HANGING):
            async with service.running():
                pass
        assert any("the consumers of its own did not stop within 1 s" in r.getMessage() for r in caplog.records)
        assert len(frozen) == len(service.pipelined) > 0
        assert all(s.consumer is None for s in subscribers)  # FastStream's stopped after all
        assert service.pool is not None and all(task.done() for task in service.tasks)
    finally:
        for consumer in frozen:
            await AIOKafkaConsumer.stop(consumer)  # what the test froze, closed after all
