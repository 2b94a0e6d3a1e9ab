"""Durable schedules: what is due is done once, even by two replicas at the same time."""

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg

from harness.probe import MIGRATIONS, RUNTIME_MIGRATIONS
from services.runtime.migrate import migrate
from services.runtime.scheduler import Schedule
from services.runtime.unit_of_work import UnitOfWork

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def expire_due(uow: UnitOfWork, now: datetime) -> int:
    done = await uow.conn.fetch(
        """UPDATE due SET done = true WHERE id IN (
               SELECT id FROM due WHERE NOT done AND due_at <= $1 ORDER BY due_at LIMIT 50 FOR UPDATE SKIP LOCKED)
           RETURNING id""", now)
    await uow.conn.executemany("INSERT INTO effects (event_id, n) VALUES ($1, $2)", [(str(r["id"]), r["id"]) for r in done])
    return len(done)


async def test_due_rows_are_handled_once_by_two_concurrent_schedules_and_future_ones_wait(scratch_schema):
    _, dsn = await scratch_schema()
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=6)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, {"runtime": RUNTIME_MIGRATIONS, "probe": MIGRATIONS})
            await conn.executemany("INSERT INTO due (id, due_at) VALUES ($1, $2)",
                                   [(i, NOW + timedelta(minutes=i - 900)) for i in range(1000)])
        replicas = [asyncio.create_task(Schedule("expiry", expire_due, 0.05, clock=lambda: NOW).run(pool, "/t"))
                    for _ in range(2)]
        for _ in range(100):
            if await pool.fetchval("SELECT count(*) FROM due WHERE done") >= 901:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)  # a double would show now
        for task in replicas:
            task.cancel()
        await asyncio.gather(*replicas, return_exceptions=True)
        effects = [int(r["event_id"]) for r in await pool.fetch("SELECT event_id FROM effects")]
        still_due = await pool.fetchval("SELECT count(*) FROM due WHERE NOT done")
    finally:
        await pool.close()

    assert sorted(effects) == list(range(901))  # due at or before NOW: each once
    assert still_due == 99  # the future ones wait


async def test_the_inbox_forgets_ids_older_than_its_retention_and_keeps_the_rest(scratch_schema):
    from services.runtime.inbox import pruner

    _, dsn = await scratch_schema()
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, {"runtime": RUNTIME_MIGRATIONS})
            await conn.executemany("INSERT INTO inbox (consumer, event_id, handled_at) VALUES ('s', $1, $2)",
                                   [(f"old-{n}", NOW - timedelta(days=46)) for n in range(7000)]
                                   + [(f"new-{n}", NOW - timedelta(days=44)) for n in range(10)])
        schedule = Schedule("inbox-retention", pruner(45), 60, clock=lambda: NOW)
        assert await schedule.run_once(pool, "/t") == 5000  # in slices, so a big backlog never locks for long
        assert await schedule.run_once(pool, "/t") == 2000
        left = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM inbox")}
    finally:
        await pool.close()
    assert left == {f"new-{n}" for n in range(10)}
