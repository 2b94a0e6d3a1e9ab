"""Poison messages go to the dead-letter topic with the reason; the consumer carries on.
The probe's topics are declared nowhere, so taken as about people: the letters hold headers
only (ADR 0018; tests/integration/curation/test_curation_bad_input.py shows a topic declared
not personal keeping its values)."""

import json

from harness.kafka import eventually, produce, read_topic
from harness.probe import Count, Probed


async def test_poison_messages_are_dead_lettered_and_the_next_message_is_handled(probe, stack):
    valid = Probed(source="/test", subject="agg-1", data=Count(n=1))
    invalid = json.loads(valid.to_bytes())
    invalid["id"] = "invalid-1"
    invalid["data"] = {"n": "not a number", "email": "someone@example.com"}
    poison = [(b"agg-1", b"\x00not json at all"), (b"agg-1", json.dumps(invalid).encode())]

    async with probe.service.running():
        sent = await produce(stack.kafka_bootstrap, probe.input_topic, [*poison, (b"agg-1", valid.to_bytes())])

        async def valid_handled() -> bool:
            return [r["event_id"] for r in await probe.effects()] == [valid.id]

        await eventually(valid_handled, what="the valid message after two poison ones")

    dead = await read_topic(stack.kafka_bootstrap, probe.settings.dead_letter_topic, at_least=2, settle=1.0)
    assert [(d.key, d.value) for d in dead] == [(None, b""), (None, b"")]  # FastStream sends None as no bytes
    headers = [{k: v.decode() for k, v in d.headers} for d in dead]
    assert [h["dlq-value-omitted"] for h in headers] == [f"{len(v)} bytes: from a topic about people" for _, v in poison]
    assert "dlq-event-id" not in headers[0]  # not JSON: nothing to tell
    assert (headers[1]["dlq-event-id"], headers[1]["dlq-event-type"]) == ("invalid-1", valid.type)
    for h, origin in zip(headers, sent[:2], strict=True):
        assert h["dlq-original-topic"] == probe.input_topic
        assert h["dlq-original-partition"] == str(origin.partition)
        assert h["dlq-original-offset"] == str(origin.offset)
        assert h["dlq-service"] == probe.settings.service
        assert h["dlq-error-type"] and h["dlq-error-message"]
    # The reason names the fields, never the values sent in them.
    assert "data.n" in headers[1]["dlq-error-message"]
    assert "example.com" not in headers[1]["dlq-error-message"]


async def test_a_tombstone_is_no_event_and_no_dead_letter(probe, stack):
    """A record without a value (how a compacted topic deletes a key: HR removing someone
    from the directory topic) carries no event to apply: skipped and counted, not dead-lettered,
    and what follows it is handled."""
    after = Probed(source="/test", subject="agg-2", data=Count(n=1))

    async with probe.service.running():
        await produce(stack.kafka_bootstrap, probe.input_topic, [(b"agg-2", None), (b"agg-2", after.to_bytes())])

        async def handled() -> bool:
            return [r["event_id"] for r in await probe.effects()] == [after.id]

        await eventually(handled, what="the event after the tombstone")

    assert await read_topic(stack.kafka_bootstrap, probe.settings.dead_letter_topic, at_least=0, timeout=1.0, settle=0.5) == []
