"""Who may do what over HTTP: sign-in on every endpoint, the privacy office's role, nobody
answering for anyone else whatever their roles, nobody learning whether someone exists;
and bad input answered with a 4xx problem that quotes nothing and writes nothing."""

import json
import logging

import httpx

from services.consent.api import MAX_BODY_BYTES
from tests.integration.consent.rig import new_advocate

SECRET = "jane.doe@example.com"  # a value no answer and no log may quote
EVERY_ROLE = ("advocate", "editor", "approver", "analyst", "operator", "privacy_officer")
GIVE = "/api/me/consents/receive_content/give"


def endpoints(someone: str) -> list[tuple[str, str, object]]:
    return [
        ("GET", "/api/me/consents", None),
        ("POST", GIVE, {"policy_version": 1}),
        ("POST", "/api/me/consents/receive_content/refuse", {"policy_version": 1}),
        ("POST", "/api/me/consents/receive_content/withdraw", None),
        ("POST", "/api/me/consents/withdraw", None),
        ("GET", "/api/me/receipt", None),
        ("DELETE", "/api/me", None),
        ("GET", "/api/policies", None),
        ("POST", "/api/policies/leaderboard", {"version": 2, "text": "v2", "requires_renewal": True}),
        ("POST", f"/api/people/{someone}/erasure", {"reason": "ticket 1"}),
        ("POST", "/api/ledger/verification", None),
    ]


OFFICE = slice(8, None)  # the last three: the privacy office's


async def test_every_endpoint_refuses_a_missing_or_forged_token_and_nothing_is_written(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    forged = consent.issuer.tampered_token(sub=advocate, realm_access={"roles": list(EVERY_ROLE)})

    answers = [(method, path, await consent.call(method, path, body, token=token))
               for method, path, body in endpoints(advocate) for token in (None, forged)]

    assert [(m, p, a.status_code, a.json()["reason"]) for m, p, a in answers] == [
        (m, p, 401, "unauthenticated") for m, p, _ in answers]
    assert all(a.headers["www-authenticate"].startswith("Bearer") for _, _, a in answers)
    assert await consent.count("ledger") == 5 and await consent.count("consents") == 0
    assert await consent.count("people WHERE advocate_id = $1", advocate) == 1


async def test_the_privacy_offices_endpoints_need_its_role_before_anything_else(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    everyone_else = consent.person(new_advocate(), *(role for role in EVERY_ROLE if role != "privacy_officer"))

    answers = [await everyone_else.call(method, path, body) for method, path, body in endpoints(advocate)[OFFICE]]
    with_bad_bodies = [await everyone_else.call(method, path, {"not": "valid"})
                       for method, path, _ in endpoints(advocate)[OFFICE]]

    assert [(a.status_code, a.json()["reason"]) for a in answers + with_bad_bodies] == [(403, "not_permitted")] * 6
    assert await consent.count("ledger") == 5 and await consent.count("policies") == 5
    assert await consent.count("people WHERE advocate_id = $1", advocate) == 1


async def test_nobody_gives_refuses_or_withdraws_for_someone_else_whatever_their_roles(consent):
    advocate, manager = new_advocate(), new_advocate()
    await consent.join(advocate, manager)
    await consent.person(advocate).give()
    before = await consent.fetch("SELECT * FROM ledger ORDER BY seq")
    boss = consent.person(manager, *EVERY_ROLE)

    # What is /me is the signed-in person's: the manager acts on their own consent only.
    withdrawn = await boss.withdraw()
    naming_them = await boss.call("POST", GIVE, {"policy_version": 1, "advocate_id": advocate})
    # No path names another person's consent.
    elsewhere = [await boss.call(method, path, body) for method, path, body in [
        ("POST", f"/api/people/{advocate}/consents/receive_content/withdraw", None),
        ("POST", f"/api/people/{advocate}/consents/receive_content/give", {"policy_version": 1}),
        ("GET", f"/api/people/{advocate}/consents", None),
        ("GET", f"/api/people/{advocate}/receipt", None)]]
    asked_by_query = await boss.expect(200, "GET", f"/api/me/consents?advocate_id={advocate}")

    assert {entry["status"] for entry in withdrawn["consents"]} == {None}
    assert (naming_them.status_code, naming_them.json()["reason"]) == (422, "invalid_request")
    assert [(a.status_code, a.json()["reason"]) for a in elsewhere] == [(404, "not_found")] * 4
    assert {entry["status"] for entry in asked_by_query["consents"]} == {None}
    assert advocate not in json.dumps(asked_by_query)
    assert await consent.status(advocate) == "given"
    assert await consent.fetch("SELECT * FROM ledger ORDER BY seq") == before


async def test_nobody_but_the_privacy_office_can_tell_whether_someone_exists(consent):
    member, never_known = new_advocate(), new_advocate()
    await consent.join(member)
    person = consent.person(new_advocate(), "advocate", "editor")

    about = [await person.call("POST", f"/api/people/{who}/erasure", {"reason": "curious"})
             for who in (member, never_known)]
    lookups = [await person.call("GET", f"/api/people/{who}/consents") for who in (member, never_known)]

    assert about[0].status_code == about[1].status_code == 403 and about[0].json() == about[1].json()
    assert lookups[0].status_code == lookups[1].status_code == 404 and lookups[0].json() == lookups[1].json()


async def test_a_token_whose_subject_cannot_be_an_advocate_id_reaches_no_consent(consent):
    odd = consent.person("svc:reporting.job")  # a valid token subject, never a directory id

    answers = [await odd.call(method, path, body) for method, path, body in endpoints("adv-00000001")[:7]]

    assert [(a.status_code, a.json()["reason"]) for a in answers] == [(403, "not_in_directory")] * 7
    assert await consent.count("ledger") == 5 and await consent.count("erasures") == 0


BAD_INPUT = {
    "invalid JSON": (GIVE, {"content": b'{"policy_version": ', "headers": {"Content-Type": "application/json"}},
                     400, "invalid_json"),
    "JSON that is not an object": (GIVE, {"json": [SECRET]}, 422, "invalid_request"),
    "no body": (GIVE, {"headers": {"Content-Type": "application/json"}}, 422, "invalid_request"),
    "an unknown field": (GIVE, {"json": {"policy_version": 1, "email": SECRET}}, 422, "invalid_request"),
    "version 0": (GIVE, {"json": {"policy_version": 0}}, 422, "invalid_request"),
    "version in words": (GIVE, {"json": {"policy_version": SECRET}}, 422, "invalid_request"),
    "version beyond the database's integers": (GIVE, {"json": {"policy_version": 2**31}}, 422, "invalid_request"),
    "an unknown collection method": (GIVE, {"json": {"policy_version": 1, "collection_method": SECRET}}, 422,
                                     "invalid_request"),
    "an unknown purpose": ("/api/me/consents/everything/give", {"json": {"policy_version": 1}}, 422,
                           "invalid_request"),
    "text/plain": (GIVE, {"content": json.dumps({"policy_version": 1}), "headers": {"Content-Type": "text/plain"}},
                   415, "unsupported_media_type"),
    "a body over the limit": (GIVE, {"json": {"policy_version": 1, "pad": "x" * MAX_BODY_BYTES}}, 413,
                              "body_too_large"),
    "a policy text with a NUL": ("/api/policies/leaderboard", {"json": {
        "version": 2, "text": f"{SECRET}\x00", "requires_renewal": False}}, 422, "invalid_request"),
    "a policy text too long": ("/api/policies/leaderboard", {"json": {
        "version": 2, "text": "x" * 20001, "requires_renewal": False}}, 422, "invalid_request"),
    "an empty policy text": ("/api/policies/leaderboard", {"json": {
        "version": 2, "text": "", "requires_renewal": False}}, 422, "invalid_request"),
    "renewal as a number": ("/api/policies/leaderboard", {"json": {
        "version": 2, "text": "v2", "requires_renewal": 1}}, 422, "invalid_request"),
    "renewal as a word": ("/api/policies/leaderboard", {"json": {
        "version": 2, "text": "v2", "requires_renewal": "yes"}}, 422, "invalid_request"),
    "a policy version beyond the database's integers": ("/api/policies/leaderboard", {"json": {
        "version": 2**31, "text": "v2", "requires_renewal": False}}, 422, "invalid_request"),
    "an erasure of an id of the wrong shape": (f"/api/people/{SECRET}/erasure", {"json": {"reason": "ticket 2"}},
                                               422, "invalid_request"),
}


async def test_bad_input_is_a_4xx_problem_that_quotes_nothing_and_writes_nothing(consent, caplog):
    caplog.set_level(logging.DEBUG)
    advocate = new_advocate()
    await consent.join(advocate)
    officer = consent.person(advocate, "privacy_officer")  # may do everything a request here tries

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{consent.settings.http_port}") as client:
        answers = {}
        for case, (path, request, _, _) in BAD_INPUT.items():
            sent = {**request, "headers": {"Authorization": f"Bearer {officer.token}", **request.get("headers", {})}}
            answers[case] = await client.post(path, **sent)

    for case, (_, _, status, reason) in BAD_INPUT.items():
        response = answers[case]
        assert (case, response.status_code, response.json().get("reason")) == (case, status, reason)
        assert response.headers["content-type"] == "application/problem+json"
        assert SECRET not in response.text

    # What the service logged (the test's own HTTP client logs the URLs it requests).
    logged = [r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert logged and not [line for line in logged if SECRET in line]
    assert await consent.count("consents") == 0 and await consent.count("ledger") == 5
    assert await consent.count("policies") == 5 and await consent.count("erasures") == 0
