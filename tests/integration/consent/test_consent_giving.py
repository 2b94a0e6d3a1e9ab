"""Giving and refusing: only the advocate, signed in, only for the policy version currently shown."""

import asyncio
from datetime import datetime

from schemas.consent import ConsentGiven, ConsentRefused, ConsentState, Purpose
from tests.integration.consent.rig import ADMIN, give, new_advocate, of_type, refuse, rejections_of


async def test_an_advocate_gives_consent_to_one_purpose_with_proof_event_and_state(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    answer = await consent.person(advocate).give(Purpose.LEADERBOARD)

    records = await consent.events.until(lambda rs: of_type(rs, ConsentGiven, advocate_id=advocate), "given")
    [given] = of_type(records, ConsentGiven, advocate_id=advocate)
    assert given["subject"] == advocate
    assert given["data"]["purpose"] == "leaderboard" and given["data"]["status"] == "given"
    assert given["data"]["valid"] is True and given["data"]["policy_version"] == 1
    assert given["data"]["changed_by"] == "subject" and given["data"]["collection_method"] == "web_form"
    assert given["data"]["expires_at"] is not None
    # The HTTP answer is the state the event announces.
    assert (answer["purpose"], answer["status"], answer["valid"], answer["policy"]["version"]) == (
        "leaderboard", "given", True, 1)
    assert [moment(answer[k]) for k in ("since", "until")] == [
        moment(given["data"][k]) for k in ("changed_at", "expires_at")]
    # No bundling: the other purposes stay without consent.
    assert [await consent.status(advocate, p) for p in Purpose] == [None, None, None, "given", None]
    [(_key, state)] = [(k, v) for k, v in (await consent.state.until(
        lambda rs: any(k == f"{advocate}:leaderboard" for k, _ in rs), "state"))
        if k == f"{advocate}:leaderboard"]
    assert state["type"] == ConsentState.model_fields["type"].default and state["data"] == given["data"]
    ledger = await consent.fetch("SELECT change, entry_hash FROM ledger WHERE purpose = 'leaderboard'"
                                 " AND change <> 'policy_published'")
    assert [(r["change"], r["entry_hash"]) for r in ledger] == [("given", given["data"]["ledger_hash"])]


async def test_nobody_can_opt_an_advocate_in_over_kafka_not_even_in_their_name(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    by_manager, in_their_name = give(advocate, actor=ADMIN), give(advocate)
    await consent.send(by_manager, in_their_name)

    records = await consent.events.until(lambda rs: rejections_of(rs, in_their_name), "rejections")
    assert rejections_of(records, by_manager) == ["sign_in_required"]
    assert rejections_of(records, in_their_name) == ["sign_in_required"]
    assert of_type(records, ConsentGiven, advocate_id=advocate) == []
    assert await consent.status(advocate) is None
    assert await consent.count("ledger WHERE change <> 'policy_published'") == 0


async def test_consent_naming_an_unknown_or_outdated_policy_version_is_refused(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    await consent.publish_policies(version=2)
    person = consent.person(advocate)

    unknown = await person.give(version=3, expect=404)
    outdated = await person.give(version=1, expect=409)
    current = await person.give(version=2)

    assert (unknown["reason"], outdated["reason"]) == ("unknown_policy_version", "outdated_policy_version")
    assert (current["status"], current["policy"]["version"]) == ("given", 2)
    records = await consent.events.until(lambda rs: of_type(rs, ConsentGiven, advocate_id=advocate), "given",
                                         settle=0.5)
    [given] = of_type(records, ConsentGiven, advocate_id=advocate)
    assert given["data"]["policy_version"] == 2
    assert await consent.count("ledger WHERE change = 'given'") == 1  # nothing of the refused ones


async def test_only_people_in_the_directory_can_consent(consent):
    stranger = new_advocate()
    problem = await consent.person(stranger).give(expect=403)

    assert problem["reason"] == "not_in_directory"
    assert await consent.fetchval("SELECT count(*) FROM consents WHERE advocate_id = $1", stranger) == 0


async def test_a_give_that_comes_before_consent_has_read_the_persons_join_is_held_and_accepted(consent):
    newcomer = new_advocate()
    first_click = asyncio.create_task(consent.person(newcomer).give())
    await asyncio.sleep(0.3)
    assert not first_click.done()  # held: consent does not know them yet

    await consent.join(newcomer)  # HR's person.joined, read a moment after the click

    answer = await first_click
    assert (answer["status"], answer["valid"]) == ("given", True)
    assert await consent.count("ledger WHERE change = 'given'") == 1


async def test_a_refusal_is_recorded_and_is_not_valid_and_only_the_advocate_can_refuse(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    by_manager = refuse(advocate)
    by_manager = by_manager.model_copy(update={"data": by_manager.data.model_copy(update={"actor": ADMIN})})
    await consent.send(by_manager)
    answer = await consent.person(advocate).refuse(Purpose.NETWORK_REACH)

    records = await consent.events.until(lambda rs: of_type(rs, ConsentRefused, advocate_id=advocate)
                                         and rejections_of(rs, by_manager), "refused")
    assert rejections_of(records, by_manager) == ["sign_in_required"]
    [refused] = of_type(records, ConsentRefused, advocate_id=advocate)
    assert (refused["data"]["purpose"], refused["data"]["status"], refused["data"]["valid"]) == (
        "network_reach", "refused", False)
    assert "expires_at" not in refused["data"]  # a refusal does not expire
    assert (answer["status"], answer["valid"], answer["until"], answer["collection_method"]) == (
        "refused", False, None, "mobile_app")
    assert await consent.status(advocate) is None  # the manager's refusal changed nothing


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_the_current_policy_of_each_purpose_is_on_the_compacted_policies_topic(consent):
    """A partner that subscribes today learns the version a give must name, and its text,
    without having seen `policy.published` (kept only for the events topic's retention)."""
    await consent.publish_policies(version=2)

    current = await consent.until_emitted(lambda e: e["data"]["version"] == 2, at_least=len(Purpose),
                                          topic=consent.topics.policies, what="version 2 of each purpose")

    assert {e["type"] for e in current} == {"advocacy.consent.policy.current.v1"}
    assert sorted(e["subject"] for e in current) == sorted(p.value for p in Purpose)
    assert all(e["subject"] == e["data"]["purpose"] and e["data"]["text"] for e in current)
