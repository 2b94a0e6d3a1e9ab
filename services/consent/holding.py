"""Holding a give or refusal while consent does not know the person yet.

A give sent right after HR's `person.joined` may come before consent has read it (about
0.4 s, more under load): the request is held until the directory knows the person, for up
to CONSENT_DIRECTORY_HOLD_SECONDS, rather than refused at once. Holding costs the service
something for every held request (a directory read every 50–500 ms, a connection of the
pool for each), so how many are held is bounded: a person double-clicking or retrying holds
a few, and a token whose subject is never in the directory (a service account) cannot hold
hundreds and slow everybody's consent.
"""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TypeVar

from schemas.commands import Rejected
from schemas.consent import Reason
from services.consent import store
from services.runtime.api import Db
from services.runtime.unit_of_work import UnitOfWork

T = TypeVar("T")

PER_PERSON = 4  # a double click and a retry or two
IN_ALL = 100  # in one process: a burst of newcomers signing in at HR's first import


class Holds:
    """The requests held now, per person and in all; past either bound, a request is not held
    and its refusal (403 `not_in_directory`) answers at once."""

    def __init__(self, per_person: int = PER_PERSON, in_all: int = IN_ALL) -> None:
        self.per_person, self.in_all = per_person, in_all
        self.held: Counter[str] = Counter()

    def take(self, advocate_id: str) -> bool:
        if self.held[advocate_id] >= self.per_person or self.held.total() >= self.in_all:
            return False
        self.held[advocate_id] += 1
        return True

    def give_back(self, advocate_id: str) -> None:
        self.held[advocate_id] -= 1
        if not self.held[advocate_id]:
            del self.held[advocate_id]

    async def until_known(self, db: Db, advocate_id: str, run: Callable[[UnitOfWork], Awaitable[T]],
                          hold_seconds: float) -> T:
        """`db.command(run)`, held while consent does not know `advocate_id`: with backoff (50
        ms, doubling to 500 ms) for up to `hold_seconds`, if this holds fewer than its bounds;
        then the 403 `not_in_directory` stands. Nothing is recorded while held, and every
        other refusal answers at once.

        While held, the directory is asked with a read of its own (`store.in_directory`), and
        the command runs again only once the person is there: run again and again, a refused
        command would keep undoing the group-commit batches it shares with other people's (a
        refusal in a batch runs the others again, each in a savepoint)."""
        try:
            return await db.command(run)
        except Rejected as refused:
            if refused.reason is not Reason.NOT_IN_DIRECTORY or not self.take(advocate_id):
                raise
            try:
                return await self._held(db, advocate_id, run, hold_seconds, refused)
            finally:
                self.give_back(advocate_id)

    @staticmethod
    async def _held(db: Db, advocate_id: str, run: Callable[[UnitOfWork], Awaitable[T]], hold_seconds: float,
                    refused: Rejected) -> T:
        """`until_known` once `refused`: the directory read until it knows the person, then the
        command again (again, if they left meanwhile). Raises the last refusal at the deadline."""
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + hold_seconds, 0.05
        while True:
            if loop.time() + pause > deadline:
                raise refused
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)
            if not await db.query(lambda conn: store.in_directory(conn, advocate_id)):
                continue
            try:
                return await db.command(run)
            except Rejected as again:
                if again.reason is not Reason.NOT_IN_DIRECTORY:
                    raise
                refused = again
