"""The directory projection every service keeps (services/runtime/directory.py) orders a
person's events by their `time`: a profile announced before the person left or was erased,
arriving after the departure or the erasure (a CRM's late event, a replayed partition), must
not bring them back; one announced after it does."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from schemas import directory as d
from services.runtime import directory
from services.runtime.migrate import RUNTIME_MIGRATIONS, migrate
from services.runtime.unit_of_work import UnitOfWork

ANNA = "adv-anna-000001"
LEFT_AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ERASED_AT = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


def joined(at: datetime, org_unit: str = "hr") -> d.PersonJoined:
    return d.PersonJoined(source="/test/hr", subject=ANNA, time=at,
                          data=d.Profile(advocate_id=ANNA, role=d.Role.EMPLOYEE, org_unit=org_unit))


def changed(at: datetime, org_unit: str) -> d.PersonChanged:
    return d.PersonChanged(source="/test/crm", subject=ANNA, time=at,
                           data=d.Profile(advocate_id=ANNA, role=d.Role.EMPLOYEE, org_unit=org_unit))


def left(at: datetime) -> d.PersonLeft:
    return d.PersonLeft(source="/test/hr", subject=ANNA, time=at, data=d.Departure(advocate_id=ANNA))


@pytest.fixture
async def projection(scratch_schema) -> AsyncIterator[tuple[asyncpg.Connection, UnitOfWork]]:
    """A connection to a new schema holding the runtime's tables (`people`, `departures`), and
    a unit of work on it (each statement its own transaction)."""
    _, dsn = await scratch_schema()
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn, {"runtime": RUNTIME_MIGRATIONS})
        yield conn, UnitOfWork(conn, "/test")
    finally:
        await conn.close()


async def test_a_profile_from_before_the_departure_does_not_bring_the_person_back(projection):
    conn, uow = projection

    async def people() -> list[tuple[str, str]]:
        return [tuple(r) for r in await conn.fetch("SELECT advocate_id, org_unit FROM people")]

    await directory.apply(uow, joined(LEFT_AT - timedelta(days=30)))
    await directory.apply(uow, left(LEFT_AT))
    await directory.apply(uow, changed(LEFT_AT - timedelta(hours=1), "sales"))  # late
    await directory.apply(uow, changed(LEFT_AT, "sales"))  # a tie: the departure wins
    assert await people() == []

    await directory.apply(uow, joined(LEFT_AT + timedelta(days=1), "sales"))  # back, later
    assert await people() == [(ANNA, "sales")]
    assert await conn.fetchval("SELECT count(*) FROM departures") == 0
    await directory.apply(uow, changed(LEFT_AT - timedelta(hours=1), "hr"))  # older than what is held
    assert await people() == [(ANNA, "sales")]


async def test_a_late_departure_removes_the_person_and_keeps_out_what_is_older_than_it_removed(projection):
    """Leaving stops everything, whatever the time of the profile held (consent revokes on
    it); a profile older than the one it removed does not come back after it."""
    conn, uow = projection
    await directory.apply(uow, joined(LEFT_AT + timedelta(days=1)))
    await directory.apply(uow, left(LEFT_AT - timedelta(days=1)))  # late
    assert await conn.fetchval("SELECT count(*) FROM people") == 0
    await directory.apply(uow, changed(LEFT_AT, "sales"))
    assert await conn.fetchval("SELECT count(*) FROM people") == 0


async def test_a_departure_without_a_time_remembers_only_the_profile_it_removed(projection):
    """Without its sender's `time` the departure would be dated when it is read: on a replay,
    later than a rejoin it preceded, which would then stay out."""
    conn, uow = projection
    await directory.apply(uow, joined(LEFT_AT - timedelta(days=30)))
    undated = d.PersonLeft(source="/test/hr", subject=ANNA, data=d.Departure(advocate_id=ANNA))
    await directory.apply(uow, undated)
    await directory.apply(uow, changed(LEFT_AT - timedelta(days=31), "sales"))  # older than what it removed
    assert await conn.fetchval("SELECT count(*) FROM people") == 0
    await directory.apply(uow, joined(LEFT_AT - timedelta(days=1), "sales"))  # the rejoin, replayed
    assert await conn.fetchval("SELECT count(*) FROM people") == 1
    await directory.apply(uow, undated)
    await directory.apply(uow, undated)  # nothing held: nothing to remember
    assert await conn.fetchval("SELECT as_of FROM departures") == LEFT_AT - timedelta(days=1)


async def test_an_erasure_forgets_the_departure_too(projection):
    conn, uow = projection
    await directory.apply(uow, joined(LEFT_AT - timedelta(days=30)))
    await directory.apply(uow, left(LEFT_AT))
    await directory.forget(uow, ANNA, ERASED_AT)
    assert await conn.fetchval("SELECT count(*) FROM departures") == 0


async def test_a_profile_from_before_the_erasure_does_not_bring_the_person_back(projection):
    """The directory topic is not ordered with consent's `advocate.erased`: a CRM's late
    event, or the directory topic read again from its start, must not put an erased id back."""
    conn, uow = projection
    await directory.apply(uow, joined(ERASED_AT - timedelta(days=30)))
    await directory.forget(uow, ANNA, ERASED_AT)
    await directory.apply(uow, joined(ERASED_AT - timedelta(days=30)))  # the topic read again
    await directory.apply(uow, changed(ERASED_AT, "sales"))  # a tie: the erasure wins
    assert await conn.fetchval("SELECT count(*) FROM people") == 0

    await directory.apply(uow, joined(ERASED_AT + timedelta(days=1), "sales"))  # rejoined later
    assert [tuple(r) for r in await conn.fetch("SELECT advocate_id, org_unit FROM people")] == [(ANNA, "sales")]


async def test_a_rejoin_read_before_the_erasure_applies_when_sent_again(projection):
    """The erasure comes through consent, one hop after the directory: a service may read a
    rejoin dated after the erasure first. The erasure removes it; sent again (the directory
    topic read again, the next profile) it applies, as in every other service."""
    conn, uow = projection
    await directory.apply(uow, joined(ERASED_AT + timedelta(seconds=3)))  # the rejoin, read first
    await directory.forget(uow, ANNA, ERASED_AT)
    assert await conn.fetchval("SELECT count(*) FROM people") == 0
    await directory.apply(uow, joined(ERASED_AT + timedelta(seconds=3)))
    assert await conn.fetchval("SELECT count(*) FROM people") == 1


async def test_an_erasure_covers_the_departure_it_removed_even_if_dated_later(projection):
    conn, uow = projection
    await directory.apply(uow, joined(ERASED_AT + timedelta(days=1)))
    await directory.apply(uow, left(ERASED_AT + timedelta(days=2)))
    await directory.forget(uow, ANNA, ERASED_AT + timedelta(days=1, hours=1))  # the departure is later
    await directory.apply(uow, changed(ERASED_AT + timedelta(days=1, hours=12), "sales"))
    assert await conn.fetchval("SELECT count(*) FROM people") == 0
    assert await conn.fetchval("SELECT count(*) FROM departures") == 0


async def test_a_profile_without_a_time_does_not_bring_an_erased_person_back(projection):
    """Without its sender's `time` it would be dated when read, after the erasure: it cannot be
    told from a stale one, so it is refused; a dated one after the erasure applies."""
    conn, uow = projection
    await directory.apply(uow, joined(ERASED_AT - timedelta(days=1)))
    await directory.forget(uow, ANNA, ERASED_AT)
    undated = d.PersonChanged(source="/test/crm", subject=ANNA,
                              data=d.Profile(advocate_id=ANNA, role=d.Role.EMPLOYEE, org_unit="sales"))
    await directory.apply(uow, undated)
    assert await conn.fetchval("SELECT count(*) FROM people") == 0
    await directory.apply(uow, left(ERASED_AT - timedelta(days=1)))
    await directory.apply(uow, undated)  # a departure before it changes nothing: still erased
    assert await conn.fetchval("SELECT count(*) FROM people") == 0


async def test_the_erasure_is_remembered_without_the_id(projection):
    conn, uow = projection
    await directory.apply(uow, joined(ERASED_AT - timedelta(days=1)))
    await directory.forget(uow, ANNA, ERASED_AT)
    [row] = await conn.fetch("SELECT ref, as_of FROM erased_people")
    assert ANNA not in row["ref"] and len(row["ref"]) == 64 and row["as_of"] == ERASED_AT
    other = await conn.fetchval("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", f":{ANNA}")
    assert row["ref"] != other  # salted: not the bare hash of the id


async def test_a_departure_after_the_erasure_is_remembered_without_the_id(projection):
    """HR's `person.left` after an erasure (before it deletes the key), or the directory topic
    read again, ends with it: it moves the erasure's time instead of writing the id."""
    conn, uow = projection
    await directory.apply(uow, joined(ERASED_AT - timedelta(days=30)))
    await directory.forget(uow, ANNA, ERASED_AT)
    await directory.apply(uow, left(ERASED_AT + timedelta(days=1)))
    assert await conn.fetchval("SELECT count(*) FROM departures") == 0
    assert await conn.fetchval("SELECT as_of FROM erased_people") == ERASED_AT + timedelta(days=1)
    await directory.apply(uow, changed(ERASED_AT + timedelta(hours=12), "sales"))  # before the departure
    assert await conn.fetchval("SELECT count(*) FROM people") == 0


async def test_a_departure_dated_decades_ahead_removes_the_person_and_keeps_a_rejoin_out_for_a_day_at_most(projection):
    """ADR 0038: leaving always removes the person, whatever its time; a broken clock's 2099
    is remembered as a day ahead of this one, so a rejoin after that applies."""
    conn, uow = projection
    await directory.apply(uow, joined(LEFT_AT))
    await directory.apply(uow, left(datetime(2099, 12, 31, tzinfo=UTC)))
    assert await conn.fetchval("SELECT count(*) FROM people") == 0
    remembered = await conn.fetchval("SELECT as_of FROM departures")
    assert remembered <= datetime.now(UTC) + timedelta(days=1)
    await directory.apply(uow, joined(remembered + timedelta(seconds=1), "sales"))
    assert await conn.fetchval("SELECT org_unit FROM people") == "sales"


async def test_what_a_time_far_ahead_froze_before_is_brought_to_the_rule_by_migration(projection):
    """Runtime migration 008: a profile stored as of 2099 takes later changes again."""
    conn, uow = projection
    await directory.apply(uow, joined(LEFT_AT))
    await conn.execute("UPDATE people SET as_of = '2099-12-31Z'")
    await directory.apply(uow, changed(datetime.now(UTC), "sales"))
    assert await conn.fetchval("SELECT org_unit FROM people") == "hr"  # frozen
    async with conn.transaction():
        await conn.execute((RUNTIME_MIGRATIONS / "008_times_ahead_unfrozen.sql").read_text())
    await directory.apply(uow, changed(datetime.now(UTC) + timedelta(seconds=1), "sales"))
    assert await conn.fetchval("SELECT org_unit FROM people") == "sales"
