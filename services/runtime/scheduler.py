"""Durable, database-driven schedules: publish at `publish_at`, expire consent after
24 months, post a scheduled share at its time.

What is due lives in the service's own tables, not in memory, so a restart loses
nothing. A `Schedule` runs the service's `job(uow, now)` every `interval` seconds in
its own transaction; the job selects what is due with `FOR UPDATE SKIP LOCKED`,
changes its state and emits events in that transaction, so each due thing happens
once even with several replicas or a crash mid-run (the transaction rolls back).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg

from services.runtime import metrics
from services.runtime.retry import backoff, is_transient
from services.runtime.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Job = Callable[[UnitOfWork, datetime], Awaitable[int]]


class Schedule:
    def __init__(self, name: str, job: Job, interval: float, clock: Callable[[], datetime] | None = None) -> None:
        self.name = name
        self.job = job
        self.interval = interval
        self.clock = clock or (lambda: datetime.now(UTC))
        self.failures = 0  # consecutive failed passes: readiness turns red at 3

    async def run_once(self, pool: asyncpg.Pool, source: str) -> int:
        """One pass; returns how many due things the job handled."""
        async with pool.acquire() as conn, conn.transaction():
            return await self.job(UnitOfWork(conn, source), self.clock())

    async def run(self, pool: asyncpg.Pool, source: str) -> None:
        """Until cancelled; a pass that handled something is followed at once by the next."""
        attempt = 0
        while True:
            metrics.SCHEDULE_FAILURES.labels(source, self.name).set(self.failures)
            try:
                handled = await self.run_once(pool, source)
                attempt = self.failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not is_transient(error):
                    log.exception("schedule %s failed", self.name)
                attempt += 1
                self.failures += 1
                await asyncio.sleep(backoff(attempt, first=0.1, cap=self.interval))
                continue
            if not handled:
                await asyncio.sleep(self.interval)
