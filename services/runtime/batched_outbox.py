"""Events that need no transaction of the caller's, written to the outbox together.

An event that records something that happened outside the database (distribution's
redirect: a click) changes nothing else, so it needs no transaction of its own: only to be
in the outbox before the caller answers (at-least-once: a click answered is a click
counted). Written one by one, each is an INSERT and a commit, and each commit wakes the
relay (the outbox's NOTIFY is per statement). Here, events emitted while a write is under
way wait for the next one, which takes all of them (up to `max_rows`) in one statement:
one round trip, one commit and one notification for the lot. Nothing waits on purpose:
one event alone is written at once, as before (ADR 0041).

Each caller gets the write's fate: its event is in the outbox when `emit` returns. A
transient fault (a connection lost, the database restarting) is retried for
`retry_seconds`, the statement being idempotent (`flush` skips an event id written
already); then, or for any other error, every caller whose event the write held gets the
error. A writer cancelled (the event loop closing) fails the callers of its write
(WriterStopped) rather than leave them waiting.
"""

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

import asyncpg

from schemas.envelope import CloudEvent
from services.runtime.retry import retry_transient
from services.runtime.unit_of_work import Deferred, flush

_Pending = tuple[tuple[Any, ...], "asyncio.Future[None]"]


class WriterStopped(Exception):
    """The event could not be written: the writer cancelled, or no database pool (the
    service starting or shutting down)."""


class BatchedOutbox:
    """Outbox rows written in shared statements through the pool `pool()` returns (the
    service's, once started), up to `max_rows` a statement; with `gate`, each write holds it
    while it holds a connection (the callers' own bound on the pool's connections)."""

    def __init__(self, pool: Callable[[], asyncpg.Pool | None], max_rows: int = 256,
                 gate: asyncio.Semaphore | None = None, retry_seconds: float = 2.0) -> None:
        self.pool = pool
        self.max_rows = max_rows
        self.gate = gate or asyncio.Semaphore(1)
        self.retry_seconds = retry_seconds
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None

    async def emit(self, topic: str, event: CloudEvent[Any]) -> None:
        """`event` in the outbox (committed) for `topic` on return, keyed by its subject.
        Raises what the write raised (asyncpg's errors; WriterStopped before the service
        started or once the writer was cancelled). The caller must hold no connection of the pool and no
        permit of `gate` while it waits: the writer needs both."""
        written = asyncio.get_running_loop().create_future()
        self._pending.append(((event.id, topic, event.subject, event.type, event.to_bytes()), written))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="batched outbox")
        await written

    async def _write(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:self.max_rows], self._pending[self.max_rows:]
            try:
                await retry_transient(partial(self._insert, [row for row, _ in batch]), self.retry_seconds)
            except Exception as error:
                _settle(batch, error)
            except BaseException:  # cancelled: nobody waits on a write that will not come
                _settle(batch + self._pending, WriterStopped("the outbox writer stopped"))
                self._pending = []
                raise
            else:
                _settle(batch, None)

    async def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        pool = self.pool()
        if pool is None:
            raise WriterStopped("the service has not started, or has stopped: no database pool")
        async with self.gate, pool.acquire() as conn:  # no transaction: the one statement is its own
            await flush(conn, [Deferred(rows=rows)])


def _settle(batch: list[_Pending], error: Exception | None) -> None:
    """Each caller's future resolved (`error` raised to it, if any), except a caller gone (its
    request cancelled: its future is done already)."""
    for _, written in batch:
        if not written.done():
            if error is None:
                written.set_result(None)
            else:
                written.set_exception(error)
