"""Withdrawal: always accepted from the person, as easy as giving, one purpose or all, in order."""

import asyncio

import asyncpg

from schemas.consent import ConsentCommandRejected, ConsentGiven, ConsentWithdrawn, Purpose
from tests.integration.consent.rig import ADMIN, new_advocate, of_type, rejections_of, withdraw


async def test_withdrawing_one_purpose_leaves_the_others_valid(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    person = consent.person(advocate)
    await person.give(Purpose.RECEIVE_CONTENT)
    await person.give(Purpose.LEADERBOARD)
    answer = await person.withdraw(Purpose.LEADERBOARD)

    records = await consent.events.until(lambda rs: of_type(rs, ConsentWithdrawn, advocate_id=advocate), "withdrawn")
    [withdrawn] = of_type(records, ConsentWithdrawn, advocate_id=advocate)
    assert (withdrawn["data"]["purpose"], withdrawn["data"]["valid"], withdrawn["data"]["changed_by"]) == (
        "leaderboard", False, "subject")
    assert (answer["purpose"], answer["status"], answer["valid"], answer["until"]) == (
        "leaderboard", "withdrawn", False, None)
    assert answer["policy"]["version"] == answer["current_policy"]["version"] == 1  # the version it was given under
    assert await consent.status(advocate, Purpose.LEADERBOARD) == "withdrawn"
    assert await consent.status(advocate, Purpose.RECEIVE_CONTENT) == "given"


async def test_withdrawing_all_withdraws_every_standing_consent_in_one_command(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    person = consent.person(advocate)
    for purpose in (Purpose.RECEIVE_CONTENT, Purpose.NETWORK_REACH):
        await person.give(purpose)
    await person.refuse(Purpose.LEADERBOARD)
    answer = await person.withdraw()

    records = await consent.events.until(
        lambda rs: len(of_type(rs, ConsentWithdrawn, advocate_id=advocate)) == 2, "two withdrawals", settle=0.5)
    assert sorted(e["data"]["purpose"] for e in of_type(records, ConsentWithdrawn, advocate_id=advocate)) == [
        "network_reach", "receive_content"]
    assert {entry["purpose"]: entry["status"] for entry in answer["consents"]} == {
        "receive_content": "withdrawn", "share_attribution": None, "network_reach": "withdrawn",
        "leaderboard": "refused", "scheduled_sharing": None}  # a no stays a no
    assert await consent.fetchval("SELECT count(*) FROM consents WHERE advocate_id = $1 AND status = 'withdrawn'",
                                  advocate) == 2


async def test_withdrawing_what_was_never_given_is_a_no_op_not_an_error(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    person = consent.person(advocate)
    answer = await person.withdraw(Purpose.SCHEDULED_SHARING)
    await person.give(Purpose.RECEIVE_CONTENT)  # a marker: announced after anything the withdrawal would be

    await consent.events.until(lambda rs: of_type(rs, ConsentGiven, advocate_id=advocate), "the marker", settle=0.5)
    assert (answer["purpose"], answer["status"], answer["valid"]) == ("scheduled_sharing", None, False)
    assert of_type(consent.events.records, ConsentWithdrawn, advocate_id=advocate) == []
    assert await consent.status(advocate, Purpose.SCHEDULED_SHARING) is None
    assert await consent.count("ledger WHERE change = 'withdrawn'") == 0


async def test_a_withdrawal_waiting_for_a_concurrent_change_answers_what_that_change_left(consent):
    """The withdrawal answers from the statement that makes it (store._WITHDRAW): while it
    waits for a record another transaction is changing (a controller's revocation here, as
    a person leaving makes), what it answers is that change once committed, not the record
    as it was when the withdrawal began; and nothing is withdrawn twice."""
    advocate = new_advocate()
    await consent.join(advocate)
    person = consent.person(advocate)
    await person.give(Purpose.LEADERBOARD)
    side = await asyncpg.connect(consent.settings.database_url)
    try:
        revocation = side.transaction()
        await revocation.start()
        await side.execute("UPDATE consents SET status = 'revoked', changed_by = 'controller' "
                           "WHERE advocate_id = $1 AND purpose = 'leaderboard'", advocate)
        withdrawal = asyncio.create_task(person.withdraw(Purpose.LEADERBOARD))
        await consent.until(lambda: side.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", side.get_server_pid()),
            1, what="the withdrawal to wait for the revocation")
        await revocation.commit()
        answer = await withdrawal
    finally:
        await side.close()

    assert (answer["status"], answer["changed_by"], answer["valid"]) == ("revoked", "controller", False)
    assert await consent.status(advocate, Purpose.LEADERBOARD) == "revoked"
    assert await consent.count("ledger WHERE change = 'withdrawn'") == 0


async def test_nobody_can_withdraw_for_an_advocate_over_kafka(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    await consent.person(advocate).give()
    by_admin, in_their_name = withdraw(advocate, actor=ADMIN), withdraw(advocate)
    await consent.send(by_admin, in_their_name)

    records = await consent.events.until(lambda rs: rejections_of(rs, in_their_name), "rejections")
    assert rejections_of(records, by_admin) == rejections_of(records, in_their_name) == ["sign_in_required"]
    [rejected] = of_type(records, ConsentCommandRejected, command_id=by_admin.id)
    assert rejected["subject"] == advocate and rejected["data"]["command_type"] == by_admin.type
    assert await consent.status(advocate) == "given"


async def test_a_withdrawal_after_a_burst_of_gives_ends_withdrawn(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    person = consent.person(advocate)
    # At once, as a page's double clicks and retries would send them: each purpose given 10 times.
    await asyncio.gather(*[person.give(purpose) for _ in range(10) for purpose in Purpose])
    answer = await person.withdraw()

    assert [entry["status"] for entry in answer["consents"]] == ["withdrawn"] * len(Purpose)
    await consent.events.until(lambda rs: len(of_type(rs, ConsentWithdrawn, advocate_id=advocate)) == len(Purpose),
                               "every purpose withdrawn", settle=1.0)
    assert [await consent.status(advocate, p) for p in Purpose] == ["withdrawn"] * len(Purpose)
    # The compacted state topic's latest record per key says the same.
    await consent.state.until(lambda rs: sum(1 for k, v in rs if k.startswith(advocate) and
                                             v["data"]["status"] == "withdrawn") == len(Purpose), "state")
    latest = {key: value for key, value in consent.state.records if key.startswith(advocate)}
    assert {key: value["data"]["status"] for key, value in latest.items()} == {
        f"{advocate}:{p.value}": "withdrawn" for p in Purpose}
    # One at a time: each give after the first renewed the one before; then the withdrawal.
    changes = await consent.fetch("SELECT purpose, change, count(*) AS n FROM ledger WHERE subject_ref IS NOT NULL "
                                  "GROUP BY purpose, change")
    assert {(r["purpose"], r["change"], r["n"]) for r in changes} == {
        *((p.value, "given", 1) for p in Purpose), *((p.value, "renewed_given", 9) for p in Purpose),
        *((p.value, "withdrawn", 1) for p in Purpose)}
