"""Outbox → relay → Kafka → idempotent consumer → outbox → Kafka, on the real stack."""

import json
from collections import defaultdict

from harness.kafka import eventually, read_topic
from harness.probe import Count, Probed
from services.runtime.unit_of_work import UnitOfWork

EVENTS = 60
KEYS = 6


async def test_events_written_with_a_change_reach_the_consumer_once_in_order_per_key(probe, stack):
    async with probe.service.running() as service:
        async with service.pool.acquire() as conn, conn.transaction():
            uow = UnitOfWork(conn, "/test")
            await uow.emit_many(probe.input_topic, Probed, [(f"agg-{i % KEYS}", Count(n=i)) for i in range(EVENTS)])
        written = {e.id: e for e in uow.emitted}

        async def all_handled() -> bool:
            return len(await probe.effects()) == EVENTS

        await eventually(all_handled, what="every event handled")
        outputs = await read_topic(stack.kafka_bootstrap, probe.output_topic, at_least=EVENTS)

        async def outbox_drained() -> bool:  # the relay deletes after Kafka acknowledged, so a moment later
            return await service.pool.fetchval("SELECT count(*) FROM outbox") == 0

        await eventually(outbox_drained, timeout=10, what="the relay to delete what it published")

    effects = await probe.effects()
    assert sorted(r["event_id"] for r in effects) == sorted(written)

    # Each handled event emitted one follow-up that carries its cause's ids.
    follow_ups = [json.loads(r.value) for r in outputs]
    assert len(follow_ups) == EVENTS
    assert {f["causationid"] for f in follow_ups} == set(written)
    assert all(f["correlationid"] == f["causationid"] for f in follow_ups)

    # Order per key: the input topic holds each aggregate's events in the order written.
    inputs = await read_topic(stack.kafka_bootstrap, probe.input_topic, at_least=EVENTS)
    per_key: dict[bytes, list[int]] = defaultdict(list)
    for record in inputs:
        per_key[record.key].append(json.loads(record.value)["data"]["n"])
    assert len(per_key) == KEYS
    assert all(ns == sorted(ns) for ns in per_key.values())
