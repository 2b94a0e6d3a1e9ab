"""Giving and refusing: only the advocate, only for the policy version currently shown."""

from schemas.consent import ConsentGiven, ConsentRefused, ConsentState, Purpose
from tests.integration.consent.rig import ADMIN, give, new_advocate, of_type, refuse, rejections_of


async def test_an_advocate_gives_consent_to_one_purpose_with_proof_event_and_state(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    await consent.send(give(advocate, Purpose.LEADERBOARD))

    records = await consent.events.until(lambda rs: of_type(rs, ConsentGiven, advocate_id=advocate), "given")
    [given] = of_type(records, ConsentGiven, advocate_id=advocate)
    assert given["subject"] == advocate
    assert given["data"]["purpose"] == "leaderboard" and given["data"]["status"] == "given"
    assert given["data"]["valid"] is True and given["data"]["policy_version"] == 1
    assert given["data"]["changed_by"] == "subject" and given["data"]["collection_method"] == "web_form"
    assert given["data"]["expires_at"] is not None
    # No bundling: the other purposes stay without consent.
    assert [await consent.status(advocate, p) for p in Purpose] == [None, None, None, "given", None]
    [(_key, state)] = [(k, v) for k, v in (await consent.state.until(
        lambda rs: any(k == f"{advocate}:leaderboard" for k, _ in rs), "state"))
        if k == f"{advocate}:leaderboard"]
    assert state["type"] == ConsentState.model_fields["type"].default and state["data"] == given["data"]
    ledger = await consent.fetch("SELECT change, entry_hash FROM ledger WHERE purpose = 'leaderboard'"
                                 " AND change <> 'policy_published'")
    assert [(r["change"], r["entry_hash"]) for r in ledger] == [("given", given["data"]["ledger_hash"])]


async def test_nobody_else_can_opt_an_advocate_in(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    by_manager = give(advocate, actor=ADMIN)
    await consent.send(by_manager)

    records = await consent.events.until(lambda rs: rejections_of(rs, by_manager), "rejection")
    assert rejections_of(records, by_manager) == ["actor_not_subject"]
    assert of_type(records, ConsentGiven, advocate_id=advocate) == []
    assert await consent.status(advocate) is None


async def test_consent_naming_an_unknown_or_outdated_policy_version_is_rejected(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    await consent.publish_policies(version=2)
    unknown, outdated, current = give(advocate, version=3), give(advocate, version=1), give(advocate, version=2)
    await consent.send(unknown, outdated, current)

    records = await consent.events.until(lambda rs: of_type(rs, ConsentGiven, advocate_id=advocate), "given")
    assert rejections_of(records, unknown) == ["unknown_policy_version"]
    assert rejections_of(records, outdated) == ["outdated_policy_version"]
    [given] = of_type(records, ConsentGiven, advocate_id=advocate)
    assert given["data"]["policy_version"] == 2


async def test_only_people_in_the_directory_can_consent(consent):
    stranger = new_advocate()
    command = give(stranger)
    await consent.send(command)

    records = await consent.events.until(lambda rs: rejections_of(rs, command), "rejection")
    assert rejections_of(records, command) == ["not_in_directory"]
    assert await consent.fetchval("SELECT count(*) FROM consents WHERE advocate_id = $1", stranger) == 0


async def test_a_refusal_is_recorded_and_is_not_valid_and_only_the_advocate_can_refuse(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    by_manager = refuse(advocate)
    by_manager = by_manager.model_copy(update={"data": by_manager.data.model_copy(update={"actor": ADMIN})})
    await consent.send(by_manager, refuse(advocate, Purpose.NETWORK_REACH))

    records = await consent.events.until(lambda rs: of_type(rs, ConsentRefused, advocate_id=advocate), "refused")
    assert rejections_of(records, by_manager) == ["actor_not_subject"]
    [refused] = of_type(records, ConsentRefused, advocate_id=advocate)
    assert (refused["data"]["purpose"], refused["data"]["status"], refused["data"]["valid"]) == (
        "network_reach", "refused", False)
    assert "expires_at" not in refused["data"]  # a refusal does not expire
