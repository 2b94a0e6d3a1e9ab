"""Withdrawal: always accepted from the person, as easy as giving, one purpose or all, in order."""

from schemas.consent import ConsentCommandRejected, ConsentGiven, ConsentWithdrawn, Purpose
from tests.integration.consent.rig import ADMIN, give, new_advocate, of_type, rejections_of, withdraw


async def test_withdrawing_one_purpose_leaves_the_others_valid(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    await consent.send(give(advocate, Purpose.RECEIVE_CONTENT), give(advocate, Purpose.LEADERBOARD),
                       withdraw(advocate, Purpose.LEADERBOARD))

    records = await consent.events.until(lambda rs: of_type(rs, ConsentWithdrawn, advocate_id=advocate), "withdrawn")
    [withdrawn] = of_type(records, ConsentWithdrawn, advocate_id=advocate)
    assert (withdrawn["data"]["purpose"], withdrawn["data"]["valid"], withdrawn["data"]["changed_by"]) == (
        "leaderboard", False, "subject")
    assert await consent.status(advocate, Purpose.LEADERBOARD) == "withdrawn"
    assert await consent.status(advocate, Purpose.RECEIVE_CONTENT) == "given"


async def test_withdrawing_all_withdraws_every_standing_consent_in_one_command(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    await consent.send(*[give(advocate, p) for p in (Purpose.RECEIVE_CONTENT, Purpose.NETWORK_REACH)],
                       withdraw(advocate))

    records = await consent.events.until(
        lambda rs: len(of_type(rs, ConsentWithdrawn, advocate_id=advocate)) == 2, "two withdrawals", settle=0.5)
    assert sorted(e["data"]["purpose"] for e in of_type(records, ConsentWithdrawn, advocate_id=advocate)) == [
        "network_reach", "receive_content"]
    assert await consent.fetchval("SELECT count(*) FROM consents WHERE advocate_id = $1 AND status <> 'withdrawn'",
                                  advocate) == 0


async def test_withdrawing_what_was_never_given_is_a_no_op_not_an_error(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    never_given = withdraw(advocate, Purpose.SCHEDULED_SHARING)
    marker = give(advocate, Purpose.RECEIVE_CONTENT)  # same key, so handled after the withdrawal
    await consent.send(never_given, marker)

    records = await consent.events.until(lambda rs: of_type(rs, ConsentGiven, advocate_id=advocate), "marker")
    assert rejections_of(records, never_given) == []
    assert of_type(records, ConsentWithdrawn, advocate_id=advocate) == []
    assert await consent.status(advocate, Purpose.SCHEDULED_SHARING) is None


async def test_nobody_else_can_withdraw_for_an_advocate(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    by_admin = withdraw(advocate, actor=ADMIN)
    await consent.send(give(advocate), by_admin)

    records = await consent.events.until(lambda rs: rejections_of(rs, by_admin), "rejection")
    assert rejections_of(records, by_admin) == ["actor_not_subject"]
    [rejected] = of_type(records, ConsentCommandRejected, command_id=by_admin.id)
    assert rejected["subject"] == advocate and rejected["data"]["command_type"] == by_admin.type
    assert await consent.status(advocate) == "given"


async def test_a_withdrawal_after_a_burst_of_gives_ends_withdrawn(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    burst = [give(advocate, purpose) for _ in range(20) for purpose in Purpose]
    await consent.send(*burst, withdraw(advocate))

    await consent.events.until(lambda rs: len(of_type(rs, ConsentWithdrawn, advocate_id=advocate)) == len(Purpose),
                               "every purpose withdrawn", settle=1.0)
    assert [await consent.status(advocate, p) for p in Purpose] == ["withdrawn"] * len(Purpose)
    # The compacted state topic's latest record per key says the same.
    await consent.state.until(lambda rs: sum(1 for k, v in rs if k.startswith(advocate) and
                                             v["data"]["status"] == "withdrawn") == len(Purpose), "state")
    latest = {key: value for key, value in consent.state.records if key.startswith(advocate)}
    assert {key: value["data"]["status"] for key, value in latest.items()} == {
        f"{advocate}:{p.value}": "withdrawn" for p in Purpose}
