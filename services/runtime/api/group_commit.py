"""Group commit: commands taken over HTTP, several in one database transaction.

Where every command must pass one lock (consent's proof ledger is one hash chain: an append
holds the chain's lock until its transaction commits), commands go one commit at a time, and
a commit waits for the disk. Requests that arrive while a commit is under way wait in a
queue; the next transaction to start takes all of them (up to `max_batch`) and commits once. Nothing
waits on purpose: when requests come one at a time, a batch is one command, as without group
commit. Without such a lock it still saves a BEGIN, an outbox write and a COMMIT (a WAL
flush) per command: distribution's share requests (ADR 0046).

Each command keeps its own fate: one refused (`Rejected`), or failing for a bug, leaves
nothing behind and its request alone gets the error; the others answer after the one commit
that made them durable. A batch first runs without savepoints (SAVEPOINT and RELEASE were two
of a command's eleven round trips, and refusals are rare): a command that fails there rolls
the whole transaction back, its request gets its error, and the batch's other commands run
again from the start, each in a savepoint of its own, so a batch runs at most twice.

The transaction's commands share `UnitOfWork.held`: consent's proof ledger is locked and its
head read once per transaction, not once per command (ledger.py). Their outbox rows,
Idempotency-Key claims and deferred rows (consent's ledger, distribution's shares) are
written once per transaction too, in one statement before the commit (`UnitOfWork.deferred`,
ADR 0031): a key claimed before fails its command as a refusal would. If that statement fails
otherwise (a row the database refuses), the batch runs again with a savepoint each, where each
command writes its own, so that the one whose row it was gets the error alone.

Up to `transactions` batches may be under way at once (ADR 0046): with more than one, a
command waiting for a lock holds up its own batch, not every request behind it.

A transient fault (the database away) fails the transaction, not a command: the batch's
commands that had not failed on their own are run again, from the start, in a new one. A
command still waiting or under way when the group closes (the service stopping) gets
`Stopped`, which the API answers 503 like a database away.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from services.runtime.retry import is_transient, retry_transient
from services.runtime.unit_of_work import Deferred, UnitOfWork, flush

log = logging.getLogger(__name__)

Command = Callable[[UnitOfWork], Awaitable[Any]]


class Stopped(ConnectionError):
    """The group commit closed before this command committed (nothing of it kept): transient,
    as a connection lost is (retry.is_transient)."""

    def __init__(self) -> None:
        super().__init__("group commit stopped: the service is stopping")


class _FlushFailed(Exception):
    """The statement writing a batch's deferred rows failed, not for a claimed key: whose row
    it was shows only when each command writes its own."""


class _Failed(Exception):
    """A command of a batch run without savepoints failed on its own (refused, or a bug)."""

    def __init__(self, queued: "_Queued", error: Exception) -> None:
        super().__init__(repr(error))
        self.queued, self.error = queued, error


@dataclass
class _Queued:
    fn: Command
    answer: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    # Failed on its own: not run again. Not `answer.done()`: a request may be cancelled (the
    # client hung up) after its command ran in a transaction that then rolled back, and its
    # command must still run again with the others, as it would have alone.
    failed: bool = False


def _fail(queued: _Queued, error: Exception) -> None:
    queued.failed = True
    if not queued.answer.done():  # its request may have gone (the client hung up: cancelled)
        queued.answer.set_exception(error)


class GroupCommit:
    def __init__(self, pool: asyncpg.Pool, source: str, retry_seconds: float, max_batch: int = 64,
                 transactions: int = 1) -> None:
        self.pool = pool
        self.source = source
        self.retry_seconds = retry_seconds
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Queued] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        # Batches under way at once; a new one is taken from the queue when one of them ends.
        self._slots = asyncio.Semaphore(transactions)
        self._commits: dict[asyncio.Task[None], list[_Queued]] = {}
        self._closed = False

    async def run(self, fn: Command) -> Any:
        """`fn(uow)`'s result once its transaction committed; its exception if it raised (nothing
        of it kept); the transient fault if the database stayed away."""
        if self._closed:
            raise Stopped()
        queued = _Queued(fn)
        self._queue.put_nowait(queued)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name=f"group-commit {self.source}")
        return await queued.answer

    async def close(self) -> None:
        """Stop: batches under way are cancelled (their transactions roll back), and every
        request not answered yet, theirs and those still queued, gets `Stopped`."""
        self._closed = True
        unanswered = [queued for batch in self._commits.values() for queued in batch]
        tasks = [*self._commits, *([self._worker] if self._worker is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        while not self._queue.empty():
            unanswered.append(self._queue.get_nowait())
        for queued in unanswered:
            if not queued.answer.done():
                queued.answer.set_exception(Stopped())

    async def _work(self) -> None:
        while True:
            await self._slots.acquire()
            try:
                batch = [await self._queue.get()]
            except BaseException:  # cancelled while waiting for a request: the slot was not used
                self._slots.release()
                raise
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            commit = asyncio.create_task(self._commit(batch), name=f"group-commit {self.source} batch")
            self._commits[commit] = batch
            commit.add_done_callback(self._ended)

    def _ended(self, commit: asyncio.Task[None]) -> None:
        del self._commits[commit]
        self._slots.release()

    async def _commit(self, batch: list[_Queued]) -> None:
        async def together(pending: list[_Queued]) -> list[tuple[_Queued, Any]]:
            """All in one transaction, no savepoints: the first command that fails rolls
            all of it back (`_Failed`)."""
            done: list[tuple[_Queued, Any]] = []
            deferred: list[Deferred] = []
            held: dict[str, Any] = {}  # UnitOfWork.held, shared by the transaction's commands
            async with self.pool.acquire() as conn, conn.transaction():
                for queued in pending:
                    writes = Deferred()
                    try:
                        done.append((queued, await queued.fn(UnitOfWork(conn, self.source, held=held,
                                                                        deferred=writes))))
                    except Exception as error:
                        if is_transient(error):
                            raise  # the transaction is gone: the whole batch again
                        raise _Failed(queued, error) from error
                    deferred.append(writes)
                # Every command's outbox rows, deferred rows and Idempotency-Key claims: one round trip.
                try:
                    refused = await flush(conn, deferred)
                except Exception as error:
                    if is_transient(error):
                        raise
                    if len(pending) == 1:
                        raise _Failed(pending[0], error) from error
                    # The class only: a message may quote a value of someone's row.
                    log.warning("a batch's deferred writes failed (%s): each command again in a savepoint",
                                type(error).__name__)
                    raise _FlushFailed() from error
                if refused:
                    n, refusal = refused[0]
                    raise _Failed(done[n][0], refusal)
            return done

        async def in_savepoints(pending: list[_Queued]) -> list[tuple[_Queued, Any]]:
            """One transaction, each command in a savepoint of its own: one that fails
            rolls back its own savepoint only, and the others go on."""
            done: list[tuple[_Queued, Any]] = []
            held: dict[str, Any] = {}
            async with self.pool.acquire() as conn, conn.transaction():
                for queued in pending:
                    before = dict(held)
                    try:
                        async with conn.transaction():  # a savepoint: this command's fate is its own
                            writes = Deferred()
                            result = await queued.fn(UnitOfWork(conn, self.source, held=held, deferred=writes))
                            if refused := await flush(conn, [writes]):
                                raise refused[0][1]  # its key was claimed before: undone
                            done.append((queued, result))
                    except Exception as error:
                        if is_transient(error):
                            raise
                        held.clear()  # what the rolled-back savepoint took and read is gone
                        held.update(before)
                        _fail(queued, error)  # its request gets it; the batch goes on
            return done

        async def attempt() -> list[tuple[_Queued, Any]]:
            careful = False
            while True:
                pending = [queued for queued in batch if not queued.failed]
                if not pending:
                    return []
                if careful and len(pending) > 1:
                    return await in_savepoints(pending)
                try:
                    return await together(pending)
                except _Failed as failed:
                    _fail(failed.queued, failed.error)  # its request gets it
                    careful = True  # the others again, each in a savepoint
                except _FlushFailed:
                    careful = True  # each in a savepoint, writing its own rows

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
