"""A give in flight and a leave at the same moment: the leave must wait for the give and
then revoke it, or a valid consent would outlive the person's leaving.

Deterministic: the give runs on one connection and stays uncommitted while the leave runs
on another; Postgres itself (pg_blocking_pids) tells when the leave waits for the give.
"""

import asyncio
from datetime import UTC, datetime

import asyncpg

from schemas import directory as d
from schemas.consent import Purpose
from services.consent.app import MIGRATIONS
from services.consent.config import ConsentSettings, ConsentTopics
from services.consent.handlers import ConsentHandlers
from services.runtime import directory
from services.runtime.migrate import RUNTIME_MIGRATIONS, migrate
from services.runtime.unit_of_work import UnitOfWork
from tests.integration.consent.rig import give, new_advocate, publish

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


async def test_a_leave_waits_for_a_give_in_flight_and_then_revokes_it(scratch_schema):
    schema, dsn = await scratch_schema()
    settings = ConsentSettings(service=schema, database_url=dsn, http_port=1)
    handlers, advocate = ConsentHandlers(settings, ConsentTopics(), lambda: NOW), new_advocate()
    giver, leaver, observer = [await asyncpg.connect(dsn) for _ in range(3)]
    try:
        await migrate(giver, {"runtime": RUNTIME_MIGRATIONS, schema: MIGRATIONS})
        async with giver.transaction():
            await handlers.publish_policy(UnitOfWork(giver, settings.source), publish(Purpose.RECEIVE_CONTENT, 1))
            await directory.apply(UnitOfWork(giver, settings.source), d.PersonJoined(
                source="/test/hr", subject=advocate, data=d.Profile(advocate_id=advocate, role=d.Role.EMPLOYEE)))

        giving = giver.transaction()
        await giving.start()
        await handlers.give(UnitOfWork(giver, settings.source), give(advocate))  # checked: in the directory
        assert await giver.fetchval("SELECT status FROM consents WHERE advocate_id = $1", advocate) == "given"

        async def leave() -> None:
            async with leaver.transaction():
                await handlers.leave(UnitOfWork(leaver, settings.source), d.PersonLeft(
                    source="/test/hr", subject=advocate, data=d.Departure(advocate_id=advocate)))

        leaving = asyncio.create_task(leave())
        # Without the lock the leave finishes at once: it deletes the person and, not seeing
        # the uncommitted consent, revokes nothing.
        while not leaving.done() and giver.get_server_pid() not in await observer.fetchval(
                "SELECT pg_blocking_pids($1)", leaver.get_server_pid()):
            await asyncio.sleep(0.01)
        assert not leaving.done(), "the leave did not wait for the give in flight"
        waiting = await observer.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", leaver.get_server_pid())
        assert "DELETE FROM people" in waiting  # it waits on the person's row, which the give locked

        await giving.commit()
        await asyncio.wait_for(leaving, 10)
        assert await observer.fetchval("SELECT status FROM consents WHERE advocate_id = $1", advocate) == "revoked"
        assert await observer.fetchval("SELECT count(*) FROM people WHERE advocate_id = $1", advocate) == 0
    finally:
        for conn in (giver, leaver, observer):
            await conn.close()
