"""The proof ledger: append-only for the service, and tampering by a superuser is found;
verifying a long chain holds up nobody's withdrawal."""

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest

from schemas.consent import ConsentGiven, ConsentWithdrawn, LedgerVerified, Purpose
from services.consent import cli, ledger
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


async def test_a_withdrawal_is_answered_while_a_long_chain_is_being_verified(consent):
    """Consent's HTTP commands share transactions (group commit); a verification taking
    minutes on years of history must not hold a withdrawal back that long."""
    advocate, history = new_advocate(), 200_000
    await consent.join(advocate)
    await consent.person(advocate).give(Purpose.RECEIVE_CONTENT)
    conn = await asyncpg.connect(consent.settings.database_url)
    try:
        async with conn.transaction():  # years of other people's changes, appended as the service does
            await ledger.append(conn, [ledger.Entry("0" * 64, "leaderboard", "given", 1, "0" * 64, "web_form",
                                                    "subject", datetime.now(UTC))] * history)
    finally:
        await conn.close()

    verification = asyncio.create_task(consent.privacy_officer().expect(200, "POST", "/api/ledger/verification"))
    await asyncio.sleep(0.3)  # under way
    withdrawn = await consent.person(advocate).withdraw(Purpose.RECEIVE_CONTENT)

    assert not verification.done()  # the withdrawal did not wait for it
    assert (withdrawn["status"], withdrawn["valid"]) == ("withdrawn", False)
    result = await verification
    assert result["intact"] and result["entries"] >= history + len(Purpose) + 1
