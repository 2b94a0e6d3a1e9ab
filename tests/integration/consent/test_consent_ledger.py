"""The proof ledger: append-only for the service, and tampering by a superuser is found;
verifying a long chain holds up nobody's withdrawal."""

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest

from schemas.consent import AdvocateErased, ConsentGiven, ConsentWithdrawn, LedgerVerified, Purpose
from services.consent import cli, ledger
from tests.integration.consent.rig import erase, new_advocate, of_type, verify_ledger


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

    # 200,000 entries take seconds, more on a busy machine: only the withdrawal must be quick.
    verification = asyncio.create_task(consent.privacy_officer().call("POST", "/api/ledger/verification",
                                                                     timeout=120))
    await asyncio.sleep(0.3)  # under way
    withdrawn = await consent.person(advocate).withdraw(Purpose.RECEIVE_CONTENT)

    assert not verification.done()  # the withdrawal did not wait for it
    assert (withdrawn["status"], withdrawn["valid"]) == ("withdrawn", False)
    answer = await verification
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["intact"] and result["entries"] >= history + len(Purpose) + 1


async def test_commands_sharing_transactions_chain_in_order_even_when_one_is_undone_after_its_entry(consent):
    """Group commit: HTTP commands arriving together share a transaction, and the ledger's
    lock and head are taken once for it (ledger.py). Some commands are undone after their
    entry was written (the same Idempotency-Key twice at once: the second answers 409 after
    its give), some are refused before (an unknown policy version), and the privacy office
    erases people on Kafka at the same time, appending in transactions of its own. The chain
    still verifies, its seqs have no gap, and every event names its own entry."""
    people, bystanders = [new_advocate() for _ in range(30)], [new_advocate() for _ in range(10)]
    await consent.join(*people, *bystanders)
    give_path = f"/api/me/consents/{Purpose.RECEIVE_CONTENT.value}/give"

    async def act(n: int, advocate: str) -> tuple[list[int], int]:
        person, key = consent.person(advocate), {"Idempotency-Key": f"request-{n}"}
        first, again, refused = await asyncio.gather(
            person.call("POST", give_path, {"policy_version": 1}, headers=key),
            person.call("POST", give_path, {"policy_version": 1}, headers=key),  # a retry racing the first
            person.call("POST", f"/api/me/consents/{Purpose.LEADERBOARD.value}/give", {"policy_version": 7}))
        return sorted([first.status_code, again.status_code]), refused.status_code

    answers, _ = await asyncio.gather(asyncio.gather(*(act(n, a) for n, a in enumerate(people))),
                                      consent.send(*[erase(b, actor="officer-00000001") for b in bystanders]))

    assert answers == [([200, 409], 404)] * len(people)
    records = await consent.events.until(
        lambda rs: len(of_type(rs, ConsentGiven)) >= len(people) and len(of_type(rs, AdvocateErased)) == len(
            bystanders), "every give and erasure")
    rows = await consent.fetch("SELECT seq, entry_hash FROM ledger ORDER BY seq")
    entries = len(Purpose) + len(people) + len(bystanders)
    assert [r["seq"] for r in rows] == list(range(1, entries + 1))  # nothing undone left a gap
    given = of_type(records, ConsentGiven)
    assert sorted(g["data"]["advocate_id"] for g in given) == sorted(people)  # each applied once
    assert {(g["consentsequence"], g["data"]["ledger_hash"]) for g in given} <= {tuple(r) for r in rows}
    conn = await asyncpg.connect(consent.settings.database_url)
    try:
        async with conn.transaction():
            verification = await ledger.verify(conn)
    finally:
        await conn.close()
    assert (verification.intact, verification.entries) == (True, entries)
