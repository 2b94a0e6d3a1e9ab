"""Handler steps played in transactions of their own, for the races of ADR 0033: each step is
a handler called on a `UnitOfWork`, as the service's subscriber would call it."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg

from harness.kafka import eventually
from schemas import consent as consent_events
from schemas import curation, directory
from schemas.consent import Purpose
from services.distribution.handlers import DistributionHandlers
from services.runtime.unit_of_work import UnitOfWork

ANNA = "adv-anna-001"
BEN = "adv-ben-0002"
ITEM = "item-plant-0001"
Step = Callable[[DistributionHandlers, UnitOfWork], Awaitable[object]]


def handlers_of(distribution) -> DistributionHandlers:
    return DistributionHandlers(distribution.settings, distribution.topics, lambda: datetime.now(UTC))


async def committed(distribution, step: Step) -> None:
    """`step` in a transaction of its own, committed."""
    conn = await asyncpg.connect(distribution.settings.database_url)
    try:
        async with conn.transaction():
            await step(handlers_of(distribution), UnitOfWork(conn, "/test"))
    finally:
        await conn.close()


async def race(distribution, first: Step, second: Step) -> None:
    """`first` runs in an open transaction; `second` starts in another, and is left to run
    until it either waits for a lock or finishes; `first` commits, then `second`."""
    a, b = [await asyncpg.connect(distribution.settings.database_url) for _ in range(2)]
    try:
        handlers = handlers_of(distribution)
        first_tx, second_tx = a.transaction(), b.transaction()
        await first_tx.start()
        await first(handlers, UnitOfWork(a, "/test"))
        await second_tx.start()
        running = asyncio.create_task(second(handlers, UnitOfWork(b, "/test")))

        async def waiting_or_done() -> bool:
            return running.done() or await waiting_for_a_lock(distribution, b)

        await eventually(waiting_or_done, what="the second transaction waiting, or done")
        await first_tx.commit()
        await running
        await second_tx.commit()
    finally:
        await a.close()
        await b.close()


async def waiting_for_a_lock(distribution, conn: asyncpg.Connection) -> bool:
    """Whether `conn`'s session waits for a lock now (a row's, an advisory one, …)."""
    return bool(await distribution.fetchval("SELECT count(*) FROM pg_locks WHERE pid = $1 AND NOT granted",
                                            conn.get_server_pid()))


def place_yeses(handlers: DistributionHandlers, uow: UnitOfWork) -> Awaitable[int]:
    return handlers.place_yeses(uow, datetime.now(UTC))


def join(distribution, advocate: str, **profile) -> Step:
    def step(handlers: DistributionHandlers, uow: UnitOfWork) -> Awaitable[None]:
        return handlers.join(uow, distribution.join_event(advocate, **{"languages": ["de"], "digest": "weekly",
                                                                        **profile}))
    return step


def change(distribution, advocate: str, **profile) -> Step:
    """A `person.changed` of `advocate`'s whole profile (the directory sends it whole)."""
    def step(handlers: DistributionHandlers, uow: UnitOfWork) -> Awaitable[None]:
        joined = distribution.join_event(advocate, **{"languages": ["de"], "digest": "weekly", **profile})
        return handlers.join(uow, directory.PersonChanged(source="/hr", subject=advocate, data=joined.data))
    return step


def consent(distribution, advocate: str, valid: bool = True) -> Step:
    def step(handlers: DistributionHandlers, uow: UnitOfWork) -> Awaitable[None]:
        return handlers.apply_consent(uow, distribution.consent_event(advocate, Purpose.RECEIVE_CONTENT, valid))
    return step


def publish(distribution, item: str, **content) -> Step:
    def step(handlers: DistributionHandlers, uow: UnitOfWork) -> Awaitable[None]:
        return handlers.publish(uow, distribution.published(item, **content))
    return step


def update(distribution, item: str, **content) -> Step:
    """An `item.updated` with the whole new content."""
    def step(handlers: DistributionHandlers, uow: UnitOfWork) -> Awaitable[None]:
        published = distribution.published(item, **content)
        return handlers.update(uow, curation.ItemUpdated(source="/advocacy/curation", subject=item,
                                                         data=published.data))
    return step


def retract(item: str) -> Step:
    def step(handlers: DistributionHandlers, uow: UnitOfWork) -> Awaitable[None]:
        return handlers.end_item(uow, curation.ItemRetracted(source="/advocacy/curation", subject=item, data=(
            curation.RetractedItem(item_id=item, actor="editor-0001", reason="wrong figures"))))
    return step


async def feed_of(distribution, advocate: str) -> list[str]:
    return [r["item_id"] for r in await distribution.fetch(
        "SELECT item_id FROM feed WHERE advocate_id = $1 ORDER BY item_id", advocate)]


async def audience_locks_held_after(distribution, step: Step) -> int:
    """How many audience locks `step`'s open transaction holds (advisory, one bigint key:
    objsubid 1; the directory's per-person lock has two int4 keys)."""
    conn = await asyncpg.connect(distribution.settings.database_url)
    try:
        async with conn.transaction():
            await step(handlers_of(distribution), UnitOfWork(conn, "/test"))
            return int(await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory' AND objsubid = 1"))
    finally:
        await conn.close()


def leave(advocate: str) -> Step:
    def step(handlers: DistributionHandlers, uow: UnitOfWork) -> Awaitable[None]:
        return handlers.leave(uow, directory.PersonLeft(source="/hr", subject=advocate,
                                                        data=directory.Departure(advocate_id=advocate)))
    return step


def erase(advocate: str) -> Step:
    def step(handlers: DistributionHandlers, uow: UnitOfWork) -> Awaitable[None]:
        return handlers.erase(uow, consent_events.AdvocateErased(
            source="/advocacy/consent", subject=advocate,
            data=consent_events.AdvocateErasure(advocate_id=advocate, erased_at=datetime.now(UTC))))
    return step
