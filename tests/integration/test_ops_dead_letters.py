"""Operators list, show and replay dead letters; a replayed letter is handled once its bug is fixed."""

from harness.kafka import eventually, produce
from harness.probe import Count, Probed, build_probe
from ops import dead_letters


async def test_a_dead_letter_replayed_after_the_fix_is_handled_and_not_replayed_again(probe, stack):
    bug_on = {13}
    service = build_probe(probe.settings, probe.input_topic, probe.output_topic, bug_on=bug_on)
    unlucky = Probed(source="/test", subject="agg-1", data=Count(n=13))
    fine = Probed(source="/test", subject="agg-1", data=Count(n=14))
    name = probe.settings.service

    async with service.running():
        await produce(stack.kafka_bootstrap, probe.input_topic,
                      [(b"agg-1", unlucky.to_bytes()), (b"agg-1", fine.to_bytes())])

        async def fine_handled() -> bool:
            return [r["event_id"] for r in await probe.effects()] == [fine.id]

        await eventually(fine_handled, what="the next message after the failing one")
        [letter] = await dead_letters.read(stack.kafka_bootstrap, name)
        assert letter.reason == "RuntimeError: a bug in the handler"
        assert letter.origin.startswith(f"{probe.input_topic}/")
        # A topic about people (the probe's is declared nowhere): the letter holds no value,
        # so the replay reads the original at its offset (ADR 0018).
        assert letter.value_omitted and (letter.key, letter.value) == (None, b"")

        bug_on.clear()  # the fix is deployed
        assert [d.offset for d in await dead_letters.replay(stack.kafka_bootstrap, name)] == [letter.offset]

        async def both_handled() -> bool:
            return {r["event_id"] for r in await probe.effects()} == {fine.id, unlucky.id}

        await eventually(both_handled, what="the replayed dead letter handled")
        assert await dead_letters.replay(stack.kafka_bootstrap, name) == []  # nothing left to replay
