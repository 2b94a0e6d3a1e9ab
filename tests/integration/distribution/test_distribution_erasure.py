"""Erasure (GDPR Art. 17): no row of distribution's schema keeps the erased person's id,
also when they had left the directory before (its departure is remembered: ADR 0035)."""

from tests.integration.distribution.steps import ANNA, committed, consent, erase, join, leave


async def test_a_person_who_left_then_was_erased_is_in_no_row(distribution):
    await committed(distribution, join(distribution, ANNA))
    await committed(distribution, consent(distribution, ANNA))
    await committed(distribution, leave(ANNA))
    await committed(distribution, erase(ANNA))
    tables = [r["table_name"] for r in await distribution.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]
    holding = [t for t in tables
               if await distribution.fetchval(f"SELECT count(*) FROM {t} t WHERE t::text LIKE $1", f"%{ANNA}%")]
    assert holding == []
