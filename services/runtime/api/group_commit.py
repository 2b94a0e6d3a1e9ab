"""Group commit: commands taken over HTTP, several in one database transaction.

Where every command must pass one lock (consent's proof ledger is one hash chain: an append
holds the chain's lock until its transaction commits), commands go one commit at a time, and
a commit waits for the disk. Requests that arrive while a commit is under way wait in a
queue; the next transaction takes all of them (up to `max_batch`), each in a savepoint of its
own, and commits once. Each command keeps its own fate: one refused (`Rejected`), or failing
for a bug, rolls back its savepoint only, and its request alone gets the error; the others
answer after the one commit that made them durable. Nothing waits on purpose: when requests
come one at a time, a batch is one command, as without group commit, and it runs without a
savepoint (two round trips fewer; the transaction's fate is its own).

A transient fault (the database away) fails the transaction, not a command: the batch's
commands that had not failed on their own are run again, from the start, in a new one.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from services.runtime.retry import is_transient, retry_transient
from services.runtime.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Command = Callable[[UnitOfWork], Awaitable[Any]]


@dataclass
class _Queued:
    fn: Command
    answer: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCommit:
    def __init__(self, pool: asyncpg.Pool, source: str, retry_seconds: float, max_batch: int = 64) -> None:
        self.pool = pool
        self.source = source
        self.retry_seconds = retry_seconds
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Queued] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    async def run(self, fn: Command) -> Any:
        """`fn(uow)`'s result once its transaction committed; its exception if it raised (its
        savepoint rolled back); the transient fault if the database stayed away."""
        queued = _Queued(fn)
        self._queue.put_nowait(queued)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name=f"group-commit {self.source}")
        return await queued.answer

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    async def _work(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._commit(batch)

    async def _commit(self, batch: list[_Queued]) -> None:
        async def alone(queued: _Queued) -> list[tuple[_Queued, Any]]:
            """A batch of one needs no savepoint: its fate is the transaction's."""
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    result = await queued.fn(UnitOfWork(conn, self.source))
            except Exception as error:
                if is_transient(error):
                    raise  # tried again, as a batch would be
                queued.answer.set_exception(error)
                return []
            return [(queued, result)]

        async def attempt() -> list[tuple[_Queued, Any]]:
            pending = [queued for queued in batch if not queued.answer.done()]
            if len(pending) == 1:
                return await alone(pending[0])
            done: list[tuple[_Queued, Any]] = []
            async with self.pool.acquire() as conn, conn.transaction():
                for queued in batch:
                    if queued.answer.done():  # failed on its own in an earlier attempt
                        continue
                    try:
                        async with conn.transaction():  # a savepoint: this command's fate is its own
                            done.append((queued, await queued.fn(UnitOfWork(conn, self.source))))
                    except Exception as error:
                        if is_transient(error):
                            raise  # the transaction is gone: the whole batch again
                        queued.answer.set_exception(error)  # its request gets it; the batch goes on
            return done

        try:
            done = await retry_transient(attempt, self.retry_seconds)
        except Exception as error:  # transient beyond the deadline, or a failed commit
            for queued in batch:
                if not queued.answer.done():
                    queued.answer.set_exception(error)
            return
        for queued, result in done:
            if not queued.answer.done():
                queued.answer.set_result(result)
