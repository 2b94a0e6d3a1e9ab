"""The signed-in person's own consent over HTTP: every purpose with the texts they saw and
the current ones, a receipt as JSON and as text, erasing themself; and the same choices
sent on Kafka, where nobody is signed in, refused."""

import hashlib
from datetime import datetime

from schemas.consent import AdvocateErased, ConsentRenewalRequested, Purpose
from services.consent.domain import pseudonym
from tests.integration.consent.rig import give, new_advocate, of_type, refuse, rejections_of, withdraw


def text_of(purpose: Purpose, version: int) -> str:
    return f"{purpose.value} policy, version {version}"  # as the rig publishes them


async def test_my_consents_show_every_purpose_in_order_with_the_text_answered_and_the_current_one(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    person = consent.person(advocate)
    await person.give(Purpose.LEADERBOARD)
    await person.refuse(Purpose.NETWORK_REACH)
    officer = consent.privacy_officer()
    await officer.expect(201, "POST", "/api/policies/leaderboard", {
        "version": 2, "text": text_of(Purpose.LEADERBOARD, 2), "requires_renewal": True})

    answer = await person.expect(200, "GET", "/api/me/consents")

    assert [entry["purpose"] for entry in answer["consents"]] == [p.value for p in Purpose]
    mine = {entry["purpose"]: entry for entry in answer["consents"]}
    leaderboard = mine["leaderboard"]
    assert (leaderboard["status"], leaderboard["valid"], leaderboard["renewal_requested"]) == (
        "renewal_requested", False, True)
    assert (leaderboard["policy"]["version"], leaderboard["policy"]["text"]) == (1, text_of(Purpose.LEADERBOARD, 1))
    assert (leaderboard["current_policy"]["version"], leaderboard["current_policy"]["text"]) == (
        2, text_of(Purpose.LEADERBOARD, 2))
    assert leaderboard["current_policy"]["content_hash"] == hashlib.sha256(
        text_of(Purpose.LEADERBOARD, 2).encode()).hexdigest()
    assert leaderboard["changed_by"] == "controller" and leaderboard["until"] is None
    refused = mine["network_reach"]
    assert (refused["status"], refused["valid"], refused["collection_method"], refused["policy"]["version"]) == (
        "refused", False, "mobile_app", 1)
    never = mine["receive_content"]
    assert (never["status"], never["valid"], never["since"], never["until"], never["policy"]) == (
        None, False, None, None, None)
    assert never["current_policy"]["text"] == text_of(Purpose.RECEIVE_CONTENT, 1)
    await consent.events.until(lambda rs: of_type(rs, ConsentRenewalRequested, advocate_id=advocate), "renewal")


async def test_giving_under_the_new_version_renews_and_the_page_shows_the_new_text_as_answered(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    person = consent.person(advocate)
    await person.give(Purpose.NETWORK_REACH)
    await consent.privacy_officer().expect(201, "POST", "/api/policies/network_reach", {
        "version": 2, "text": text_of(Purpose.NETWORK_REACH, 2), "requires_renewal": True})

    renewed = await person.give(Purpose.NETWORK_REACH, version=2)

    assert (renewed["status"], renewed["valid"], renewed["renewal_requested"]) == ("renewed_given", True, False)
    assert renewed["policy"] == renewed["current_policy"] and renewed["policy"]["version"] == 2


async def test_the_receipt_is_served_as_json_and_as_text_and_says_how_to_withdraw_here(consent):
    advocate, other = new_advocate(), new_advocate()
    await consent.join(advocate, other)
    person = consent.person(advocate)
    await person.give(Purpose.RECEIVE_CONTENT)
    await person.give(Purpose.LEADERBOARD)
    await person.withdraw(Purpose.LEADERBOARD)
    await consent.person(other).give(Purpose.LEADERBOARD)

    document = await person.expect(200, "GET", "/api/me/receipt")
    text = await person.call("GET", "/api/me/receipt?format=text")
    unknown_format = await person.call("GET", "/api/me/receipt?format=xml")

    assert document["advocate_id"] == advocate
    assert "POST /api/me/consents/{purpose}/withdraw" in document["withdrawal_method"]
    purposes = {p["purpose"]: p for p in document["purposes"]}
    assert set(purposes) == {"receive_content", "leaderboard"}
    assert [(h["change"], h["changed_by"]) for h in purposes["leaderboard"]["history"]] == [
        ("given", "subject"), ("withdrawn", "subject")]
    hashes = {r["entry_hash"] for r in await consent.fetch("SELECT entry_hash FROM ledger")}
    assert {h["ledger_hash"] for p in document["purposes"] for h in p["history"]} <= hashes
    assert text.status_code == 200 and text.headers["content-type"] == "text/plain; charset=utf-8"
    assert f"for {advocate}" in text.text and "leaderboard: withdrawn (not valid), policy v1" in text.text
    assert "To withdraw: Signed in" in text.text
    assert other not in text.text and other not in str(document)
    assert unknown_format.status_code == 422 and unknown_format.json()["reason"] == "invalid_request"


async def test_erasing_myself_answers_the_erasure_and_leaves_only_the_pseudonymous_proof(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    person = consent.person(advocate)
    await person.give(Purpose.RECEIVE_CONTENT)

    erased = await person.expect(200, "DELETE", "/api/me")

    assert (erased["advocate_id"], erased["erased_by"]) == (advocate, "subject")
    records = await consent.events.until(lambda rs: of_type(rs, AdvocateErased, advocate_id=advocate), "erased")
    [event] = of_type(records, AdvocateErased, advocate_id=advocate)
    assert datetime.fromisoformat(event["data"]["erased_at"]) == datetime.fromisoformat(erased["erased_at"])
    ref = pseudonym(consent.settings.consent_pseudonym_key.get_secret_value().encode(), advocate)
    [entry] = await consent.fetch("SELECT subject_ref, change, changed_by FROM ledger WHERE entry_hash = $1",
                                  erased["ledger_hash"])
    assert (entry["subject_ref"], entry["change"], entry["changed_by"]) == (ref, "erased", "subject")
    [record] = await consent.fetch("SELECT * FROM erasures WHERE entry_hash = $1", erased["ledger_hash"])
    assert (record["subject_ref"], record["requested_by_ref"], record["reason"]) == (ref, ref, None)
    assert await consent.count("consents WHERE advocate_id = $1", advocate) == 0
    assert await consent.count("people WHERE advocate_id = $1", advocate) == 0
    # What they see afterwards: nothing on record, the proof still in their receipt.
    assert {entry["status"] for entry in (await person.consents()).values()} == {None}
    receipt = await person.expect(200, "GET", "/api/me/receipt")
    assert [(p["purpose"], p["status"]) for p in receipt["purposes"]] == [("receive_content", "erased")]


async def test_a_persons_choices_sent_on_kafka_are_refused_as_not_signed_in_and_change_nothing(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    await consent.person(advocate).give(Purpose.LEADERBOARD)
    entries = await consent.count("ledger")
    commands = [give(advocate, Purpose.RECEIVE_CONTENT), refuse(advocate, Purpose.NETWORK_REACH),
                withdraw(advocate, Purpose.LEADERBOARD), withdraw(advocate)]
    await consent.send(*commands)

    records = await consent.events.until(lambda rs: all(rejections_of(rs, c) for c in commands), "rejections")
    assert [rejections_of(records, c) for c in commands] == [["sign_in_required"]] * len(commands)
    assert {entry["status"] for entry in (await consent.person(advocate).consents()).values()} == {None, "given"}
    assert await consent.status(advocate, Purpose.LEADERBOARD) == "given"
    assert await consent.count("ledger") == entries


async def test_the_answer_to_a_choice_is_the_state_as_read_back(consent):
    """A give or a refusal is answered from the change it made and the version it was made
    under (not read back: one round trip fewer); the answer is what reading gives."""
    advocate = new_advocate()
    await consent.join(advocate)
    person = consent.person(advocate)
    answers = [await person.give(Purpose.LEADERBOARD), await person.give(Purpose.LEADERBOARD),
               await person.refuse(Purpose.NETWORK_REACH)]
    assert answers[-1] == (await person.consents())["network_reach"]
    await consent.privacy_officer().expect(201, "POST", "/api/policies/leaderboard", {
        "version": 2, "text": text_of(Purpose.LEADERBOARD, 2), "requires_renewal": False})
    answers.append(await person.give(Purpose.LEADERBOARD, version=2))
    mine = await person.consents()

    assert answers[-1] == mine["leaderboard"]
    assert [a["status"] for a in answers] == ["given", "renewed_given", "refused", "renewed_given"]
    assert (answers[-1]["policy"]["text"], answers[-1]["until"] is not None) == (text_of(Purpose.LEADERBOARD, 2), True)


async def test_a_withdrawal_sent_under_a_key_spent_on_a_give_is_refused_as_reused_not_as_applied(consent):
    """A client that reuses an Idempotency-Key for another command must not read "applied
    before" (409) for a withdrawal that never happened: 422 `idempotency_key_reused`, and the
    consent stays as it was (the give's own retry still answers 409)."""
    advocate = new_advocate()
    await consent.join(advocate)
    person, key = consent.person(advocate), {"Idempotency-Key": "7d1e-spent-on-a-give"}
    purpose = Purpose.LEADERBOARD.value
    given = await person.call("POST", f"/api/me/consents/{purpose}/give", {"policy_version": 1}, headers=key)
    withdrawn = await person.call("POST", f"/api/me/consents/{purpose}/withdraw", headers=key)
    again = await person.call("POST", f"/api/me/consents/{purpose}/give", {"policy_version": 1}, headers=key)

    assert (given.status_code, withdrawn.status_code, again.status_code) == (200, 422, 409)
    assert (withdrawn.json()["reason"], again.json()["reason"]) == ("idempotency_key_reused", "already_applied")
    assert (await person.consents())["leaderboard"]["status"] == "given"
