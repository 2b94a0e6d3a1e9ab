"""Withdrawal: always accepted from the person, as easy as giving, one purpose or all, in order."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from schemas.consent import ConsentCommandRejected, ConsentGiven, ConsentWithdrawn, Purpose
from tests.integration.consent.rig import ADMIN, ConsentRig, new_advocate, of_type, rejections_of, withdraw


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


async def withdrawn_while(consent: ConsentRig, advocate: str, purpose: Purpose,
                          change: Callable[[asyncpg.Connection], Awaitable[Any]]) -> dict[str, Any]:
    """The answer to withdrawing `purpose`, sent while another transaction, making `change`
    on its connection, holds the person's record: it commits once the withdrawal waits for
    it (Postgres's `pg_blocking_pids` tells)."""
    side = await asyncpg.connect(consent.settings.database_url)
    withdrawal: asyncio.Task[dict[str, Any]] | None = None
    try:
        held = side.transaction()
        await held.start()
        await change(side)
        withdrawal = asyncio.create_task(consent.person(advocate).withdraw(purpose))
        await consent.until("SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", 1,
                            side.get_server_pid(), what="the withdrawal to wait for the other transaction")
        await held.commit()
        return await withdrawal
    finally:
        if withdrawal is not None and not withdrawal.done():
            withdrawal.cancel()
        await side.close()


async def test_a_withdrawal_that_waited_for_a_revocation_answers_the_revocation_and_withdraws_nothing(consent):
    """What a withdrawal answers is read once it is made (migration 005): the record it waited
    for is answered as the controller's revocation left it (as a person leaving makes), not as
    it was when the withdrawal began, and a revoked record is not withdrawn."""
    advocate = new_advocate()
    await consent.join(advocate)
    await consent.person(advocate).give(Purpose.LEADERBOARD)

    answer = await withdrawn_while(consent, advocate, Purpose.LEADERBOARD, lambda side: side.execute(
        "UPDATE consents SET status = 'revoked', changed_by = 'controller' "
        "WHERE advocate_id = $1 AND purpose = 'leaderboard'", advocate))

    assert (answer["status"], answer["changed_by"], answer["valid"]) == ("revoked", "controller", False)
    assert await consent.status(advocate, Purpose.LEADERBOARD) == "revoked"
    assert await consent.count("ledger WHERE change = 'withdrawn'") == 0


async def test_a_withdrawal_that_waited_for_a_new_policy_version_answers_it_as_the_current_one(consent):
    """A version published while the withdrawal waits (its renewal request holding the
    person's record) is the current one the answer shows; the record, withdrawn, still names
    the version it was given under."""
    advocate = new_advocate()
    await consent.join(advocate)
    await consent.person(advocate).give(Purpose.LEADERBOARD)

    async def publish_version_2(side: asyncpg.Connection) -> None:  # as publishing does, in its order
        await side.execute("INSERT INTO policies (purpose, version, text, content_hash, requires_renewal, published_at) "
                           "SELECT 'leaderboard', 2, 'version 2', encode(sha256('version 2'), 'hex'), true, now()")
        await side.execute("UPDATE purposes SET current_version = 2, current_hash = encode(sha256('version 2'), 'hex') "
                           "WHERE purpose = 'leaderboard'")
        await side.execute("UPDATE consents SET status = 'renewal_requested', changed_by = 'controller' "
                           "WHERE advocate_id = $1 AND purpose = 'leaderboard'", advocate)

    answer = await withdrawn_while(consent, advocate, Purpose.LEADERBOARD, publish_version_2)

    assert (answer["status"], answer["changed_by"]) == ("withdrawn", "subject")
    assert (answer["policy"]["version"], answer["current_policy"]["version"]) == (1, 2)
    assert answer["current_policy"]["text"] == "version 2"


async def test_a_withdrawal_waits_for_no_record_it_does_not_change(consent):
    """Only the records a withdrawal changes are locked, so only those are waited for
    (migration 005): a refusal another transaction holds does not delay withdrawing all."""
    advocate = new_advocate()
    await consent.join(advocate)
    person = consent.person(advocate)
    await person.give(Purpose.RECEIVE_CONTENT)
    await person.refuse(Purpose.LEADERBOARD)
    side = await asyncpg.connect(consent.settings.database_url)
    try:
        async with side.transaction():
            await side.execute("SELECT 1 FROM consents WHERE advocate_id = $1 AND purpose = 'leaderboard' FOR UPDATE",
                               advocate)
            answer = await asyncio.wait_for(person.withdraw(), timeout=10)  # not after the holder ends
    finally:
        await side.close()

    statuses = {entry["purpose"]: entry["status"] for entry in answer["consents"]}
    assert (statuses["receive_content"], statuses["leaderboard"]) == ("withdrawn", "refused")


async def test_the_answers_to_withdrawals_are_the_standings_as_read_back(consent):
    """Each field of a withdrawal's answer, one purpose or all, is what reading the person's
    consents afterwards gives."""
    advocate = new_advocate()
    await consent.join(advocate)
    person = consent.person(advocate)
    for purpose in (Purpose.RECEIVE_CONTENT, Purpose.NETWORK_REACH, Purpose.LEADERBOARD):
        await person.give(purpose)
    await person.refuse(Purpose.SCHEDULED_SHARING)

    one = await person.withdraw(Purpose.LEADERBOARD)
    assert one == (await person.consents())["leaderboard"]
    every = await person.withdraw()
    assert {entry["purpose"]: entry for entry in every["consents"]} == await person.consents()
    assert [entry["status"] for entry in every["consents"]] == [
        "withdrawn", None, "withdrawn", "withdrawn", "refused"]  # in the order of `Purpose`


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
