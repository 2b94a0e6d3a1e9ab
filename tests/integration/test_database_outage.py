"""The database stopped for a few seconds mid-stream: retried, nothing dead-lettered, nothing lost."""

import asyncio

import pytest

from harness.kafka import eventually, produce, read_topic
from harness.probe import Count, Probed

EVENTS = 1_500


async def test_a_database_outage_mid_stream_is_retried_without_loss_or_dead_letters(probe, stack):
    if stack.stop_database is None:
        pytest.skip("only the local stack can stop its database; this stack was given from outside")
    events = [Probed(source="/test", subject=f"agg-{i % 20}", data=Count(n=i)) for i in range(EVENTS)]

    async def trickle() -> None:
        for start in range(0, EVENTS, 50):
            chunk = events[start:start + 50]
            await produce(stack.kafka_bootstrap, probe.input_topic, [(e.subject.encode(), e.to_bytes()) for e in chunk])
            await asyncio.sleep(0.15)

    async with probe.service.running():
        producing = asyncio.create_task(trickle())

        async def some_handled() -> bool:
            return len(await probe.effects()) > 100

        await eventually(some_handled, what="the stream to be under way")
        await asyncio.to_thread(stack.stop_database)
        await asyncio.sleep(3.0)
        await asyncio.to_thread(stack.start_database)
        await producing

        async def all_handled() -> bool:
            return len(await probe.effects()) >= EVENTS

        await eventually(all_handled, timeout=90, what="every event handled after the outage")

    effects = await probe.effects()
    assert sorted(r["event_id"] for r in effects) == sorted(e.id for e in events)
    dead = await read_topic(stack.kafka_bootstrap, probe.settings.dead_letter_topic, at_least=1, timeout=2)
    assert dead == []
