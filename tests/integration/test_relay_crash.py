"""The relay killed with SIGKILL mid-publication and restarted: nothing lost, no effect twice."""

import asyncio
import json
import os
import signal
import subprocess
import sys

import asyncpg

from harness.kafka import eventually, read_topic
from harness.probe import Count, Probed
from services.runtime.migrate import RUNTIME_MIGRATIONS, migrate
from services.runtime.unit_of_work import UnitOfWork

EVENTS = 20_000


def start_relay(schema: str, dsn: str, bootstrap: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": dsn, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "OUTBOX_BATCH_SIZE": "200"}
    return subprocess.Popen([sys.executable, "-m", "services.runtime.run_relay", schema], env=env)


async def test_a_relay_killed_mid_publication_loses_nothing_and_duplicates_no_effect(probe, stack, scratch_schema):
    schema, dsn = await scratch_schema()  # the producing side, with its own outbox
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn, {"runtime": RUNTIME_MIGRATIONS})
        async with conn.transaction():
            uow = UnitOfWork(conn, "/test")
            await uow.emit_many(probe.input_topic, Probed, [(f"agg-{i % 50}", Count(n=i)) for i in range(EVENTS)])
        written = {e.id for e in uow.emitted}

        async def backlog() -> int:
            return await conn.fetchval("SELECT count(*) FROM outbox")

        async with probe.service.running():
            relay = start_relay(schema, dsn, stack.kafka_bootstrap)
            await eventually(lambda: _below(backlog, EVENTS - 1000), timeout=60, what="the relay to publish")
            relay.send_signal(signal.SIGKILL)
            relay.wait()
            left_at_kill = await backlog()

            relay = start_relay(schema, dsn, stack.kafka_bootstrap)
            try:
                await eventually(lambda: _below(backlog, 1), timeout=120, what="the outbox to drain")
            finally:
                relay.terminate()
                relay.wait()

            async def all_handled() -> bool:
                return len(await probe.effects()) >= EVENTS

            await eventually(all_handled, timeout=300, what="every event handled")  # slow under load, never wrong
            await asyncio.sleep(1.0)  # any duplicate still in flight would land now
            effects = await probe.effects()
    finally:
        await conn.close()

    assert 0 < left_at_kill < EVENTS, "the kill came mid-publication"
    published = await read_topic(stack.kafka_bootstrap, probe.input_topic, at_least=EVENTS, timeout=60)
    assert {json.loads(r.value)["id"] for r in published} == written  # nothing lost
    assert len(effects) == EVENTS and {r["event_id"] for r in effects} == written  # no effect twice


async def _below(count, limit: int) -> bool:
    return await count() < limit
