"""Signing in over HTTP: the actor is whoever the issuer's token names, and a bad token is a
401 that says nothing of why, writes nothing, and leaves no trace of itself in the logs."""

import asyncio
import base64
import json
import time

import pytest

from harness.issuer import ec_key, rsa_key

PERSON = "adv-signin-01"


def bad_tokens(issuer) -> dict[str, str]:
    now = int(time.time())
    return {
        "expired": issuer.token(PERSON, exp=now - 120, iat=now - 600),
        "not yet valid": issuer.token(PERSON, nbf=now + 600),
        "from another issuer": issuer.token(PERSON, iss="https://evil.example/realms/test"),
        "for another audience": issuer.token(PERSON, aud="another-platform"),
        "alg none": issuer.unsigned_token(sub=PERSON),
        "HS256 signed with the public key": issuer.hmac_with_public_key(sub=PERSON),
        "unknown kid": issuer.token(PERSON, key=rsa_key()),
        "a stranger's key under a published kid": issuer.token(PERSON, key=rsa_key(kid=issuer.rsa.kid)),
        "ES256 claimed for the RSA key": issuer.token(PERSON, key=ec_key(kid=issuer.rsa.kid)),
        "tampered payload": issuer.tampered_token(sub=PERSON),
        "without an advocate id": issuer.token(sub=None),
        "an e-mail address as advocate id": issuer.token("jane.doe@example.com"),
        "not a JWT": "jane.doe@example.com",
    }


def personal_claims(token: str) -> list[str]:
    """What a token's payload says about the person (its issuer's URL is no secret)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return []
    return [str(claims[name]) for name in ("sub", "email") if name in claims] + ["jane.doe"]


async def test_a_command_signed_in_is_taken_for_whoever_the_token_names(front_door):
    response = await front_door.client.post(f"/api/people/{PERSON}/notes", json={"text": "first"},
                                            headers=front_door.signed_in(PERSON))
    assert response.status_code == 201, response.text
    assert response.json()["advocate_id"] == PERSON
    assert await front_door.notes_of(PERSON) == 1
    [event] = await front_door.events_about(PERSON, at_least=1)
    assert event["type"] == "test.note.taken.v1" and event["data"]["note_id"] == response.json()["note_id"]


async def test_an_ec_signed_token_is_as_good_as_an_rsa_signed_one(front_door):
    token = front_door.issuer.token(PERSON, key=front_door.issuer.ec)
    response = await front_door.client.get("/api/notes", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("case", [
    "expired", "not yet valid", "from another issuer", "for another audience", "alg none",
    "HS256 signed with the public key", "unknown kid", "a stranger's key under a published kid",
    "ES256 claimed for the RSA key", "tampered payload", "without an advocate id",
    "an e-mail address as advocate id", "not a JWT",
])
async def test_a_bad_token_is_a_401_that_says_nothing_of_why_and_writes_nothing(front_door, logs, case):
    token = bad_tokens(front_door.issuer)[case]
    before = await front_door.notes_of(PERSON)
    response = await front_door.client.post(f"/api/people/{PERSON}/notes", json={"text": "forged"},
                                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {  # the same for every bad token: nothing to learn from it
        "type": "urn:advocacy:problem:unauthenticated", "title": "Unauthorized", "status": 401,
        "detail": "Sign in: the bearer token is not valid.", "reason": "unauthenticated"}
    assert await front_door.notes_of(PERSON) == before
    said = response.text + str(response.headers) + logs.text
    for secret in [token, *personal_claims(token)]:
        if secret != PERSON:  # the path names the person; the token's words must not come back
            assert secret not in said, f"{case}: {secret[:20]}… leaked"
    assert "bearer token refused" in logs.text  # operators see why, by reason code


async def test_without_a_bearer_token_the_answer_asks_for_one(front_door):
    for headers in ({}, {"Authorization": "Basic YWxpY2U6c2VjcmV0"}):
        response = await front_door.client.get("/api/notes", headers=headers)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert response.json()["reason"] == "unauthenticated"


async def test_an_endpoint_for_a_role_is_forbidden_to_those_without_it(front_door):
    path = "/api/moderation/notes/count"
    refused = await front_door.client.get(path, headers=front_door.signed_in("adv-signin-02", "advocate"))
    assert refused.status_code == 403 and refused.json()["reason"] == "not_permitted"
    allowed = await front_door.client.get(path, headers=front_door.signed_in("adv-signin-03", "moderator"))
    assert allowed.status_code == 200 and allowed.json()["notes"] >= 0


async def test_a_key_rotated_by_the_issuer_is_taken_up_at_the_first_token_it_signed(front_door):
    issuer = front_door.issuer
    fetched = issuer.jwks_requests
    old = issuer.rsa
    issuer.rotate(keep_old=True)
    await asyncio.sleep(0.6)  # past the rig's minimum interval between two fetches of the keys
    try:
        response = await front_door.client.get("/api/notes", headers=front_door.signed_in("adv-signin-04"))
        assert response.status_code == 200, response.text
        assert issuer.jwks_requests == fetched + 1
    finally:
        issuer.published.remove(old)
