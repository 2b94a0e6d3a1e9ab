"""The local stack's Keycloak and its realm (deploy/keycloak/realm-advocacy.json), as the
services and the portal will meet them: tokens verified against the realm's published keys,
the advocate id as `sub`, people created in bulk, and the portal client's rules."""

import asyncio
import random
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest

from deploy.local.keycloak import (
    API_AUDIENCE,
    PORTAL,
    PORTAL_CALLBACK_PATH,
    KeycloakError,
    Person,
    Realm,
    create_users,
    demo_users,
    password_token,
)

pytestmark = pytest.mark.integration


async def verified(realm: Realm, token: str) -> dict:
    """The token's claims once its signature, issuer, audience and expiry check out, with the
    key found as a resource server finds it: discovery document, then its jwks_uri."""
    async with httpx.AsyncClient() as http:
        discovery = (await http.get(realm.discovery_url)).json()
    assert discovery["issuer"] == realm.issuer
    keys = jwt.PyJWKClient(discovery["jwks_uri"])
    key = await asyncio.to_thread(keys.get_signing_key_from_jwt, token)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=API_AUDIENCE, issuer=realm.issuer,
                      options={"require": ["exp", "iat", "sub", "aud", "iss"]})


async def test_a_demo_users_token_verifies_and_names_them_by_advocate_id_with_their_roles(keycloak: Realm):
    manager = next(p for p in demo_users() if p.username == "manager")
    claims = await verified(keycloak, (await password_token(keycloak, manager.username, manager.password))["access_token"])
    assert claims["sub"] == manager.advocate_id
    assert API_AUDIENCE in ([claims["aud"]] if isinstance(claims["aud"], str) else claims["aud"])
    assert set(claims["realm_access"]["roles"]) == {"editor", "advocate"}


async def test_every_demo_user_signs_in_with_exactly_the_roles_the_readme_lists(keycloak: Realm):
    people = demo_users()
    assert {role for p in people for role in p.roles} == {
        "advocate", "editor", "approver", "analyst", "privacy_officer", "operator"}
    for person in people:
        claims = jwt.decode((await password_token(keycloak, person.username, person.password))["access_token"],
                            options={"verify_signature": False})
        assert (claims["sub"], set(claims["realm_access"]["roles"])) == (person.advocate_id, set(person.roles))
        assert "email" not in claims and "name" not in claims  # the realm keeps no names or addresses


async def test_a_wrong_password_is_refused_without_echoing_it(keycloak: Realm):
    with pytest.raises(KeycloakError) as refused:
        await password_token(keycloak, "editor", "not-the-password")
    assert (refused.value.status, refused.value.error) == (401, "invalid_grant")
    assert "not-the-password" not in str(refused.value) and "editor" not in str(refused.value)


async def test_people_created_in_bulk_can_sign_in_and_a_second_import_skips_them(keycloak: Realm):
    tag = secrets.token_hex(3)
    people = [Person(f"adv-{tag}-{n:04d}", f"p-{tag}-{n:04d}", secrets.token_urlsafe(12),
                     ("advocate", "editor") if n % 10 == 0 else ("advocate",)) for n in range(300)]
    assert await create_users(keycloak, people) == (300, 0, 0)
    assert await create_users(keycloak, people[:50]) == (0, 50, 0)

    someone = random.choice([p for p in people if "editor" in p.roles])
    claims = await verified(keycloak, (await password_token(keycloak, someone.username, someone.password))["access_token"])
    assert (claims["sub"], set(claims["realm_access"]["roles"])) == (someone.advocate_id, {"advocate", "editor"})


async def test_an_import_that_must_not_overwrite_refuses_somebody_already_there(keycloak: Realm):
    someone = next(p for p in demo_users() if p.username == "advocate")
    with pytest.raises(KeycloakError) as refused:
        await create_users(keycloak, [someone], if_exists="FAIL")
    assert refused.value.status == 409 and "advocate" not in str(refused.value)  # Keycloak's message names them


def portal_sign_in(realm: Realm, redirect_uri: str, **extra: str) -> httpx.Response:
    query = {"client_id": PORTAL.client_id, "response_type": "code", "scope": "openid", "state": "s",
             "redirect_uri": redirect_uri, **extra}
    return httpx.get(f"{realm.authorization_url}?{urlencode(query)}", follow_redirects=False)


S256 = {"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_the_portal_may_come_back_on_any_loopback_port_to_its_callback_only(keycloak: Realm, host: str):
    port = random.randrange(1025, 65535)
    assert portal_sign_in(keycloak, f"http://{host}:{port}{PORTAL_CALLBACK_PATH}", **S256).status_code == 200
    assert portal_sign_in(keycloak, f"http://{host}:{port}/elsewhere", **S256).status_code == 400
    assert portal_sign_in(keycloak, f"http://example.com:{port}{PORTAL_CALLBACK_PATH}", **S256).status_code == 400


@pytest.mark.parametrize("pkce", [{}, {"code_challenge": "abc" * 15, "code_challenge_method": "plain"}],
                         ids=["without PKCE", "with plain PKCE"])
async def test_the_portal_must_sign_in_with_pkce_s256(keycloak: Realm, pkce: dict):
    answer = portal_sign_in(keycloak, f"http://127.0.0.1:8085{PORTAL_CALLBACK_PATH}", **pkce)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["location"])
    assert back.path == PORTAL_CALLBACK_PATH and parse_qs(back.query)["error"] == ["invalid_request"]


async def test_the_portal_cannot_use_the_password_grant(keycloak: Realm):
    with pytest.raises(KeycloakError) as refused:
        await password_token(keycloak, "advocate", "advocate", client=PORTAL)
    assert refused.value.error == "unauthorized_client"
