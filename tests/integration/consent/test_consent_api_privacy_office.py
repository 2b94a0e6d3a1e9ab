"""The privacy office over HTTP (role privacy_officer): publishing a policy version, erasing
someone on their behalf with a recorded reason, verifying the proof ledger; and the current
policies, which anyone signed in may read."""

import hashlib
import logging

import asyncpg

from schemas.consent import AdvocateErased, LedgerVerified, PolicyPublished, Purpose
from services.consent.domain import pseudonym
from tests.integration.consent.rig import new_advocate, of_type

REASON = "Ticket PRIV-4711: erasure asked for by letter of 2026-11-20"


async def test_a_privacy_officer_publishes_a_version_that_anyone_signed_in_then_reads(consent):
    officer, reader = consent.privacy_officer(), consent.person(new_advocate(), "advocate")
    text = "Your follower count may be used to estimate reach.\n\nVersion 2."

    policy = await officer.expect(201, "POST", "/api/policies/network_reach",
                                  {"version": 2, "text": text, "requires_renewal": False})
    current = await reader.expect(200, "GET", "/api/policies")

    assert (policy["purpose"], policy["version"], policy["text"], policy["requires_renewal"]) == (
        "network_reach", 2, text, False)
    assert policy["content_hash"] == hashlib.sha256(text.encode()).hexdigest()
    assert [p["purpose"] for p in current["policies"]] == [p.value for p in Purpose]
    assert {p["purpose"]: p["version"] for p in current["policies"]}["network_reach"] == 2
    assert [p for p in current["policies"] if p["purpose"] == "network_reach"] == [policy]
    records = await consent.events.until(lambda rs: of_type(rs, PolicyPublished, purpose="network_reach", version=2),
                                         "published")
    [published] = of_type(records, PolicyPublished, purpose="network_reach", version=2)
    assert published["data"]["content_hash"] == policy["content_hash"]


async def test_a_version_that_is_not_newer_is_refused_and_nothing_changes(consent):
    officer = consent.privacy_officer()
    problem = await officer.expect(409, "POST", "/api/policies/leaderboard",
                                   {"version": 1, "text": "the same version again", "requires_renewal": True})

    assert problem["reason"] == "policy_version_not_newer"
    assert await consent.count("policies WHERE purpose = 'leaderboard'") == 1
    assert await consent.count("ledger") == len(Purpose)


async def test_the_privacy_officer_erases_someone_with_the_reason_recorded_and_never_logged(consent, caplog):
    caplog.set_level(logging.DEBUG)
    advocate = new_advocate()
    await consent.join(advocate)
    await consent.person(advocate).give(Purpose.RECEIVE_CONTENT)
    officer = consent.privacy_officer()

    erased = await officer.expect(200, "POST", f"/api/people/{advocate}/erasure", {"reason": f"  {REASON}\n"})

    assert (erased["advocate_id"], erased["erased_by"]) == (advocate, "controller")
    key = consent.settings.consent_pseudonym_key.get_secret_value().encode()
    [record] = await consent.fetch("SELECT * FROM erasures WHERE entry_hash = $1", erased["ledger_hash"])
    assert (record["subject_ref"], record["requested_by_ref"], record["changed_by"], record["reason"]) == (
        pseudonym(key, advocate), pseudonym(key, officer.advocate_id), "controller", REASON)
    assert await consent.count("consents WHERE advocate_id = $1", advocate) == 0
    records = await consent.events.until(lambda rs: of_type(rs, AdvocateErased, advocate_id=advocate), "erased")
    assert REASON not in str(records) and REASON not in caplog.text
    assert officer.advocate_id not in str(await consent.fetch("SELECT * FROM erasures"))


async def test_a_reason_or_a_policy_of_only_invisible_characters_is_refused_and_nothing_changes(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    await consent.person(advocate).give(Purpose.RECEIVE_CONTENT)
    officer, invisible = consent.privacy_officer(), "\u200b\u202e \u2800"

    await officer.expect(422, "POST", f"/api/people/{advocate}/erasure", {"reason": invisible})
    await officer.expect(422, "POST", "/api/policies/leaderboard",
                         {"version": 7, "text": invisible, "requires_renewal": False})

    assert await consent.count("consents WHERE advocate_id = $1", advocate) == 1
    assert await consent.count("policies WHERE purpose = 'leaderboard' AND version = 7") == 0


async def test_erasing_someone_never_known_is_answered_alike_and_still_announced(consent):
    known, unknown = new_advocate(), new_advocate()
    await consent.join(known)
    officer = consent.privacy_officer()

    answers = [await officer.call("POST", f"/api/people/{who}/erasure", {"reason": REASON}) for who in (known, unknown)]

    assert [a.status_code for a in answers] == [200, 200]
    assert [sorted(a.json()) for a in answers] == [["advocate_id", "erased_at", "erased_by", "ledger_hash"]] * 2
    assert [a.json()["erased_by"] for a in answers] == ["controller"] * 2
    # Other services may hold what this one never had: the erasure reaches them all the same.
    await consent.events.until(lambda rs: of_type(rs, AdvocateErased, advocate_id=unknown), "erased")


BAD_REASONS = {
    "no reason": {}, "an empty one": {"reason": ""}, "a blank one": {"reason": "   "},
    "one too long": {"reason": "x" * 501}, "a NUL in it": {"reason": "a NUL\x00 in it"}, "a number": {"reason": 42},
    "an unknown field": {"reason": REASON, "advocate_id": "adv-someone-else"},
}


async def test_an_erasure_without_a_proper_reason_is_refused_and_nothing_is_erased(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    officer = consent.privacy_officer()

    answers = {case: await officer.call("POST", f"/api/people/{advocate}/erasure", body)
               for case, body in BAD_REASONS.items()}

    assert {case: (a.status_code, a.json()["reason"]) for case, a in answers.items()} == dict.fromkeys(
        BAD_REASONS, (422, "invalid_request"))
    assert await consent.count("people WHERE advocate_id = $1", advocate) == 1
    assert await consent.count("erasures") == 0 and await consent.count("ledger WHERE change = 'erased'") == 0


async def test_the_privacy_officer_verifies_the_ledger_and_sees_tampering(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    await consent.person(advocate).give(Purpose.LEADERBOARD)
    officer = consent.privacy_officer()

    intact = await officer.expect(200, "POST", "/api/ledger/verification")

    head = await consent.fetchval("SELECT entry_hash FROM ledger ORDER BY seq DESC LIMIT 1")
    assert (intact["entries"], intact["intact"], intact["first_broken_seq"], intact["head_hash"]) == (
        len(Purpose) + 1, True, None, head)
    admin = await asyncpg.connect(consent.admin_dsn)
    try:
        ledger = f"{consent.schema}.ledger"
        await admin.execute(f"ALTER TABLE {ledger} DISABLE TRIGGER USER")
        tampered = await admin.fetchval(f"UPDATE {ledger} SET change = 'refused' WHERE change = 'given' "
                                        "RETURNING seq")
        await admin.execute(f"ALTER TABLE {ledger} ENABLE TRIGGER USER")
    finally:
        await admin.close()

    broken = await officer.expect(200, "POST", "/api/ledger/verification")

    assert (broken["intact"], broken["first_broken_seq"], broken["head_hash"]) == (False, tampered, None)
    records = await consent.events.until(lambda rs: len(of_type(rs, LedgerVerified)) == 2, "both announced")
    assert [e["data"]["intact"] for e in of_type(records, LedgerVerified)] == [True, False]
