"""Faults while a stream of mixed inputs flows — directory joins, consent given, refused and
withdrawn, items approved and published, shares requested (a person's commands over HTTP,
signed in), clicks through the redirect, connectors' counters and follower counts — and
afterwards the state of every service equals the
reference computed from the inputs alone (model.py): nothing lost, nothing counted twice,
nothing dead-lettered, the consent ledger's chain intact."""

import asyncio

import pytest

from harness.kafka import eventually
from schemas.catalog import SERVICES
from tests.e2e.crash import faults
from tests.e2e.crash.flow import group_members


def assert_exact(outcome) -> None:
    assert outcome.differences == []
    assert outcome.unexpected_clicks == []
    assert [str(a) for a in outcome.unexpected_answers] == []
    assert outcome.dead_letters == dict.fromkeys(SERVICES, 0)
    assert outcome.ledger_intact


async def test_services_killed_at_random_moments_lose_nothing_and_count_nothing_twice(play_under, supervisor):
    outcome = await play_under(
        lambda phases, figures, rng: faults.kill_at_random(supervisor, list(SERVICES), phases, rng, figures,
                                                         every=(1.0, 4.0)))

    assert outcome.figures.kills, "services were killed while the stream flowed"
    assert outcome.figures.restarts == len(outcome.figures.kills)
    assert_exact(outcome)


async def test_a_broker_restart_mid_stream_loses_nothing_and_counts_nothing_twice(play_under, stack):
    if stack.stop_broker is None:
        pytest.skip("only the local stack can stop its broker; this stack was given from outside")

    def restart_broker(phases, figures, rng):
        return faults.restart_when(phases, "consent", stack.stop_broker, stack.start_broker, rng,
                                   done=lambda: setattr(figures, "broker_restarts", figures.broker_restarts + 1))

    outcome = await play_under(restart_broker)

    assert outcome.figures.broker_restarts == 1
    assert_exact(outcome)


async def test_a_database_restart_mid_stream_loses_nothing_and_counts_nothing_twice(play_under, stack):
    if stack.stop_database is None:
        pytest.skip("only the local stack can stop its database; this stack was given from outside")

    def restart_database(phases, figures, rng):
        return faults.restart_when(phases, "shares", stack.stop_database, stack.start_database, rng,
                                   done=lambda: setattr(figures, "database_restarts", figures.database_restarts + 1))

    outcome = await play_under(restart_database)

    assert outcome.figures.database_restarts == 1
    assert_exact(outcome)


SCALED = ("distribution", "metrics")
GROUPS = ("distribution.advocacy.consent.events.v1", "metrics.advocacy.distribution.events.v1")


async def test_a_killed_replica_leaves_its_partitions_to_the_other(play_under, supervisor, stack):
    """Two replicas of distribution and of metrics, in the same consumer groups; the first
    of each (started first: normally the one whose relay holds the publishing lock) is killed
    for good mid-stream."""
    members = lambda: _members(stack.kafka_bootstrap)  # noqa: E731
    # The groups as they are before the second replicas, settled: a replica an earlier test
    # killed stays a member until its session times out, and other tests' services may be
    # members too; counting a member on its way out would make "both replicas" a wrong number.
    alone = await _settled(members)
    second = [supervisor.add(service).name for service in SCALED]
    for name in second:
        supervisor.start(name)

    async def kill_first_replicas(phases, figures, rng):
        await phases.wait("consent")
        for service in SCALED:
            supervisor.kill(service)
            figures.kills.append(f"{figures.at()}s {service} (for good)")

    try:
        for name in second:
            await supervisor.until_ready(name)
        await eventually(lambda: _are(members, {g: n + 1 for g, n in alone.items()}), timeout=120,
                         what="both replicas in each group")
        outcome = await play_under(kill_first_replicas)
        await eventually(lambda: _are(members, alone), timeout=120, what="the survivor alone in each group")
    finally:
        for name in second:
            supervisor.stop(name)
        for service in SCALED:
            if not supervisor.replicas[service].alive:
                await supervisor.restart(service)

    assert [k for k in outcome.figures.kills if "for good" in k], "the first replicas were killed mid-stream"
    assert_exact(outcome)


async def _members(bootstrap: str) -> dict[str, int]:
    return {group: await group_members(bootstrap, group) for group in GROUPS}


async def _settled(members, interval: float = 15.0, timeout: float = 120.0) -> dict[str, int]:
    """The members per group once two counts `interval` apart agree (longer than a session
    timeout: a dead member is gone by the second count)."""
    deadline = asyncio.get_running_loop().time() + timeout
    before = await members()
    while True:
        await asyncio.sleep(interval)
        now = await members()
        if now == before or asyncio.get_running_loop().time() > deadline:
            return now
        before = now


async def _are(members, expected: dict[str, int]) -> bool:
    return await members() == expected
