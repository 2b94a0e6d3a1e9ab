"""Erasure: the advocate's data goes everywhere but the pseudonymous proof, which still verifies."""

import asyncpg

from schemas.consent import AdvocateErased, ConsentWithdrawn, LedgerVerified, Purpose
from services.consent import receipts
from tests.integration.consent.rig import erase, new_advocate, of_type, verify_ledger


async def test_after_erasure_no_row_outside_the_pseudonymised_ledger_holds_the_advocate_id(consent):
    advocate, other = new_advocate(), new_advocate()
    await consent.join(advocate, other)
    person = consent.person(advocate)
    await person.give(Purpose.RECEIVE_CONTENT)
    await person.give(Purpose.LEADERBOARD)
    await person.withdraw(Purpose.LEADERBOARD)
    await consent.person(other).give()
    await consent.events.until(lambda rs: of_type(rs, ConsentWithdrawn), "withdrawn")
    entries_before = await consent.fetchval("SELECT count(*) FROM ledger")

    await consent.send(erase(advocate))
    records = await consent.events.until(lambda rs: of_type(rs, AdvocateErased), "erased")
    [erased] = of_type(records, AdvocateErased)
    assert erased["subject"] == advocate == erased["data"]["advocate_id"]
    await consent.until("SELECT count(*) FROM outbox", 0, what="the outbox to drain")

    admin = await asyncpg.connect(consent.admin_dsn)
    try:
        tables = [r["tablename"] for r in await admin.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1", consent.schema)]
        holding = {t: await admin.fetchval(f"SELECT count(*) FROM {consent.schema}.{t} AS r "
                                           "WHERE r::text LIKE '%' || $1 || '%'", advocate) for t in tables}
        other_rows = await admin.fetchval(f"SELECT count(*) FROM {consent.schema}.consents WHERE advocate_id = $1", other)
    finally:
        await admin.close()
    assert {"consents", "people", "ledger", "erasures", "outbox", "inbox", "policies", "purposes"} <= set(tables)
    assert holding == dict.fromkeys(tables, 0), "the raw id is in no table, not even the ledger"
    assert other_rows == 1  # nobody else's data is touched

    # The ledger kept its proof (plus the erasure itself) and still verifies.
    assert await consent.fetchval("SELECT count(*) FROM ledger") == entries_before + 1
    await consent.send(verify_ledger())
    records = await consent.events.until(lambda rs: of_type(rs, LedgerVerified), "verified")
    assert of_type(records, LedgerVerified)[0]["data"]["intact"] is True

    # The advocate, presenting their id, can still be shown what they consented to.
    conn = await asyncpg.connect(consent.settings.database_url)
    try:
        receipt = await receipts.build(conn, consent.settings, advocate, erased["data"]["erased_at"])
    finally:
        await conn.close()
    assert {p.purpose: (p.status, [h.change for h in p.history]) for p in receipt.purposes} == {
        Purpose.RECEIVE_CONTENT: ("erased", ["given"]), Purpose.LEADERBOARD: ("erased", ["given", "withdrawn"])}


async def test_erasure_leaves_a_tombstone_for_each_of_the_advocates_keys_on_the_state_topic(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    await consent.person(advocate).give(Purpose.RECEIVE_CONTENT)
    await consent.send(erase(advocate))
    keys = {f"{advocate}:{p.value}" for p in Purpose}
    records = await consent.state.until(
        lambda rs: {k for k, v in rs if v is None} >= keys, "tombstones")
    latest = {key: value for key, value in records if key in keys}
    assert latest == dict.fromkeys(keys)
    assert [v["data"]["status"] for k, v in records if k == f"{advocate}:receive_content" and v] == ["given"]
