"""Erasure (GDPR Art. 17): no row of distribution's schema keeps the erased person's id,
also when they had left the directory before (its departure is remembered: ADR 0035), or
when a profile of theirs from before the erasure arrives after it."""

from tests.integration.distribution.steps import (
    ANNA,
    audience_locks_held_after,
    committed,
    consent,
    erase,
    join,
    leave,
    race,
)


async def tables_holding(distribution, advocate: str) -> list[str]:
    tables = [r["table_name"] for r in await distribution.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]
    return [t for t in tables
            if await distribution.fetchval(f"SELECT count(*) FROM {t} t WHERE t::text LIKE $1", f"%{advocate}%")]


async def test_a_person_who_left_then_was_erased_is_in_no_row(distribution):
    await committed(distribution, join(distribution, ANNA))
    await committed(distribution, consent(distribution, ANNA))
    await committed(distribution, leave(ANNA))
    await committed(distribution, erase(ANNA))
    assert await tables_holding(distribution, ANNA) == []


async def test_a_profile_from_before_the_erasure_arriving_after_it_brings_nobody_back(distribution):
    """The directory topic is not ordered with consent's `advocate.erased` (a CRM's late
    event, the directory topic read again from its start)."""
    joined = distribution.join_event(ANNA, languages=["de"], digest="weekly")
    await committed(distribution, lambda handlers, uow: handlers.join(uow, joined))
    await committed(distribution, consent(distribution, ANNA))
    await committed(distribution, erase(ANNA))
    assert await audience_locks_held_after(distribution, lambda handlers, uow: handlers.join(uow, joined)) == 0
    await committed(distribution, lambda handlers, uow: handlers.join(uow, joined))
    assert await tables_holding(distribution, ANNA) == []


async def test_an_erasure_racing_the_persons_join_leaves_nothing_either_way(distribution):
    """The erasure comes on consent's topic, the join on the directory's: nothing orders the
    two transactions but the person's lock (`directory.hold`)."""
    joined = distribution.join_event(ANNA, languages=["de"], digest="weekly")
    await race(distribution, lambda handlers, uow: handlers.join(uow, joined), erase(ANNA))
    assert await tables_holding(distribution, ANNA) == []

    await race(distribution, erase(ANNA), lambda handlers, uow: handlers.join(uow, joined))
    assert await tables_holding(distribution, ANNA) == []
