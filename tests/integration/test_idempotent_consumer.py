"""The same event delivered several times has one effect."""

from harness.kafka import eventually, produce
from harness.probe import Count, Probed


async def test_an_event_delivered_three_times_has_one_effect(probe, stack):
    repeated = Probed(source="/test", subject="agg-1", data=Count(n=7))
    marker = Probed(source="/test", subject="agg-1", data=Count(n=8))
    async with probe.service.running():
        message = (b"agg-1", repeated.to_bytes())
        await produce(stack.kafka_bootstrap, probe.input_topic, [message, message])
        await produce(stack.kafka_bootstrap, probe.input_topic, [message, (b"agg-1", marker.to_bytes())])

        async def marker_handled() -> bool:
            return any(r["event_id"] == marker.id for r in await probe.effects())

        await eventually(marker_handled, what="the marker after the repeats")

    effects = await probe.effects()
    assert [r["event_id"] for r in effects].count(repeated.id) == 1
    assert len(effects) == 2
