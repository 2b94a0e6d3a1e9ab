"""The proof ledger: append-only for the service, and tampering by a superuser is found."""

import asyncpg
import pytest

from schemas.consent import ConsentGiven, ConsentWithdrawn, LedgerVerified, Purpose
from services.consent import cli
from tests.integration.consent.rig import new_advocate, of_type, verify_ledger


async def test_the_service_role_cannot_update_delete_or_truncate_ledger_rows(consent):
    conn = await asyncpg.connect(consent.settings.database_url)
    try:
        for statement in ("UPDATE ledger SET change = 'given'", "DELETE FROM ledger", "TRUNCATE ledger"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
    finally:
        await conn.close()
    assert await consent.fetchval("SELECT count(*) FROM ledger") == len(Purpose)  # the five policies


async def test_tampering_with_a_ledger_row_as_superuser_is_detected_by_verify(consent, monkeypatch):
    advocate = new_advocate()
    await consent.join(advocate)
    await consent.person(advocate).give(Purpose.LEADERBOARD)
    await consent.person(advocate).withdraw(Purpose.LEADERBOARD)
    records = await consent.events.until(lambda rs: of_type(rs, ConsentWithdrawn), "withdrawn")
    [given] = of_type(records, ConsentGiven)

    first = verify_ledger()
    await consent.send(first)
    records = await consent.events.until(lambda rs: of_type(rs, LedgerVerified), "verified")
    [intact] = of_type(records, LedgerVerified)
    assert (intact["data"]["intact"], intact["data"]["entries"]) == (True, len(Purpose) + 2)
    assert "first_broken_seq" not in intact["data"]

    # A superuser rewrites history: the "given" becomes a "refused".
    admin = await asyncpg.connect(consent.admin_dsn)
    try:
        ledger = f"{consent.schema}.ledger"
        await admin.execute(f"ALTER TABLE {ledger} DISABLE TRIGGER USER")
        tampered = await admin.fetchval(f"UPDATE {ledger} SET change = 'refused' WHERE entry_hash = $1 RETURNING seq",
                                        given["data"]["ledger_hash"])
        await admin.execute(f"ALTER TABLE {ledger} ENABLE TRIGGER USER")
    finally:
        await admin.close()

    await consent.send(verify_ledger())
    records = await consent.events.until(lambda rs: len(of_type(rs, LedgerVerified)) == 2, "second verification")
    broken = of_type(records, LedgerVerified)[1]
    assert (broken["data"]["intact"], broken["data"]["first_broken_seq"]) == (False, tampered)

    monkeypatch.setenv("DATABASE_URL", consent.settings.database_url)  # the operator's CLI says the same
    result = await cli.verify_ledger()
    assert (result.intact, result.first_broken_seq, result.entries) == (False, tampered, len(Purpose) + 2)
