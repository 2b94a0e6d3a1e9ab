"""Batch consumption: one transaction per batch, duplicates skipped, bad records dead-lettered alone."""

import json

import pytest

from harness.kafka import eventually, produce, read_topic
from harness.probe import Count, Probed, build_batch_probe, build_probe

EVENTS = 1_000


def omitted(dead: list) -> list[str]:
    """What the letters say of their values: the probe's topics are about people (declared
    nowhere), so the letters keep headers only (ADR 0018)."""
    return sorted(dict(d.headers)["dlq-value-omitted"].decode() for d in dead if d.value in (None, b""))


def omission(value: bytes) -> str:
    return f"{len(value)} bytes: from a topic about people"


async def test_a_batch_consumer_applies_each_event_once_and_dead_letters_only_the_bad_records(probe, stack):
    service = build_batch_probe(probe.settings, probe.input_topic)
    events = [Probed(source="/test", subject=f"agg-{i % 10}", data=Count(n=i)) for i in range(EVENTS)]
    messages = [(e.subject.encode(), e.to_bytes()) for e in events]
    poison = [(b"agg-1", b"\xff\xfe"), (b"agg-2", b'{"type": "test.probed.v1"}')]
    await produce(stack.kafka_bootstrap, probe.input_topic, messages[:500] + poison + messages[500:] + messages[:20])

    async with service.running():
        async def all_handled() -> bool:
            return len(await probe.effects()) >= EVENTS

        await eventually(all_handled, what="every event handled in batches")
        async with service.pool.acquire() as conn:
            batch_sizes = [r["size"] for r in await conn.fetch("SELECT size FROM batches")]
        dead = await read_topic(stack.kafka_bootstrap, probe.settings.dead_letter_topic, at_least=2, settle=1.0)

    effects = await probe.effects()
    assert sorted(r["event_id"] for r in effects) == sorted(e.id for e in events)  # the 20 repeats: no effect
    assert sum(batch_sizes) == EVENTS and len(batch_sizes) < EVENTS / 10  # batched, not one by one
    assert omitted(dead) == sorted(omission(value) for _, value in poison)


@pytest.mark.parametrize("defer_writes", [False, True], ids=["written-as-they-come", "written-once-a-batch"])
async def test_events_handled_each_in_a_shared_transaction_keep_their_causes_and_one_bug_sinks_only_itself(
        probe, stack, defer_writes):
    """Either way a subscriber's outbox rows are written (ADR 0047): the events emitted name
    their causes and leave in the order of what caused them."""
    events = [Probed(source="/test", subject=f"agg-{i % 10}", data=Count(n=i)) for i in range(300)]
    messages = [(e.subject.encode(), e.to_bytes()) for e in events]
    service = build_probe(probe.settings, probe.input_topic, probe.output_topic, bug_on={150},
                          defer_writes=defer_writes)
    await produce(stack.kafka_bootstrap, probe.input_topic, [*messages, (b"agg-3", b"not json"), *messages[:30]])

    async with service.running():
        async def all_but_one_handled() -> bool:
            return len(await probe.effects()) >= 299

        await eventually(all_but_one_handled, what="every event but the buggy one handled")
        dead = await read_topic(stack.kafka_bootstrap, probe.settings.dead_letter_topic, at_least=2, settle=1.0)
        handled = await read_topic(stack.kafka_bootstrap, probe.output_topic, at_least=299, settle=1.0)

    assert sorted(r["n"] for r in await probe.effects()) == [n for n in range(300) if n != 150]  # repeats: no effect
    assert omitted(dead) == sorted([omission(b"not json"), omission(messages[150][1])])
    causes = {json.loads(h.value)["causationid"] for h in handled}
    assert causes == {e.id for e in events if e.data.n != 150}  # each emitted event names its own cause
    for subject in {e.subject for e in events}:
        counted = [json.loads(h.value)["data"]["n"] for h in handled if h.key == subject.encode()]
        assert counted == sorted(counted), subject
