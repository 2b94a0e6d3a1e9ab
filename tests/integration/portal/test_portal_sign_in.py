"""The portal signing people in at the real Keycloak: the authorization-code flow with
PKCE as the browser would follow it (the portal's ASGI app in-process, Keycloak over
HTTP), the tokens' renewal and what the issuer refuses."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from deploy.local.keycloak import PORTAL, Realm, demo_users
from services.portal.config import PortalSettings
from services.portal.oidc import Oidc, Pending, SignInFailed, SignInRequired
from services.portal.web import build_app

pytestmark = pytest.mark.integration
PUBLIC = "http://127.0.0.1:18085"  # any loopback port: the realm accepts the callback on each


def settings(realm: Realm) -> PortalSettings:
    return PortalSettings(portal_public_url=PUBLIC, oidc_issuer=realm.issuer, portal_client_id=PORTAL.client_id,
                          portal_client_secret=PORTAL.secret)


async def at_keycloak(authorization_url: str, username: str, password: str) -> str:
    """Follow Keycloak's login form as a person would; returns where Keycloak sends them back."""
    async with httpx.AsyncClient(follow_redirects=True) as browser:
        form = await browser.get(authorization_url)
        action = unescape(re.search(r'<form[^>]*action="([^"]+)"', form.text).group(1))
        # Keycloak's cookies are Secure: a browser sends them back to http://127.0.0.1 (a secure
        # context), httpx's cookie jar does not, so they go back by hand.
        cookies = "; ".join(f"{c.name}={c.value}" for c in browser.cookies.jar)
        browser.cookies.clear()
        answer = await browser.post(action, data={"username": username, "password": password},
                                    headers={"Cookie": cookies}, follow_redirects=False)
    assert answer.status_code == 302, answer.text[:300]
    return answer.headers["location"]


async def test_a_person_signs_in_with_the_code_flow_and_pkce_and_lands_on_the_page_they_asked_for(keycloak: Realm):
    editor = next(p for p in demo_users() if p.username == "editor")
    app = build_app(settings(keycloak))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as portal:
        to_issuer = await portal.get("/auth/login", params={"next": "/editor/items?status=draft"})
        assert to_issuer.status_code == 303
        query = parse_qs(urlsplit(to_issuer.headers["location"]).query)
        assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
        assert query["redirect_uri"] == [f"{PUBLIC}/auth/callback"] and query["nonce"] and query["state"]
        back = await at_keycloak(to_issuer.headers["location"], editor.username, editor.password)
        assert back.startswith(f"{PUBLIC}/auth/callback?")
        landed = await portal.get(back[len(PUBLIC):])
        assert landed.status_code == 303 and landed.headers["location"] == "/editor/items?status=draft"
        assert "portal_session=" in landed.headers["set-cookie"]
        [session] = app.state.portal.sessions._sessions.values()
        assert session.principal.advocate_id == editor.advocate_id and session.principal.has_role("editor")
        assert session.username == "editor" and session.tokens.refresh_token
        assert (await portal.get("/")).headers["location"] == "/consent"  # signed in: no start page


async def test_a_code_is_exchanged_only_with_its_own_verifier(keycloak: Realm):
    oidc = Oidc(settings(keycloak))
    try:
        pending = await oidc.begin("/")
        back = await at_keycloak(pending.authorization_url, "advocate", "advocate")
        code = parse_qs(urlsplit(back).query)["code"][0]
        forged = Pending(pending.state, pending.nonce, "x" * 48, "/")
        with pytest.raises(SignInFailed) as refused:
            await oidc.finish(code, pending.state, forged)
        assert refused.value.reason == "token_endpoint_invalid_grant"
    finally:
        await oidc.aclose()


async def test_a_callback_naming_another_state_is_refused_before_the_code_is_used(keycloak: Realm):
    oidc = Oidc(settings(keycloak))
    try:
        pending = await oidc.begin("/")
        back = await at_keycloak(pending.authorization_url, "advocate", "advocate")
        code = parse_qs(urlsplit(back).query)["code"][0]
        with pytest.raises(SignInFailed, match="state_mismatch"):
            await oidc.finish(code, "another-state", pending)
        signed_in = await oidc.finish(code, pending.state, pending)  # the code was not spent
        assert signed_in.principal.advocate_id == "adv-demo-0001"
    finally:
        await oidc.aclose()


async def test_tokens_are_renewed_with_the_refresh_token_and_a_refused_one_means_signing_in_again(keycloak: Realm):
    oidc = Oidc(settings(keycloak))
    try:
        pending = await oidc.begin("/")
        back = await at_keycloak(pending.authorization_url, "approver", "approver")
        signed_in = await oidc.finish(parse_qs(urlsplit(back).query)["code"][0], pending.state, pending)
        renewed, principal = await oidc.refresh(signed_in.tokens)
        assert renewed.access_token != signed_in.tokens.access_token and principal.has_role("approver")
        spoiled = type(renewed)(renewed.access_token, "not-a-refresh-token", renewed.id_token, renewed.expires_at)
        with pytest.raises(SignInRequired):
            await oidc.refresh(spoiled)
        logout = await oidc.logout_url(renewed.id_token)
        assert logout and logout.startswith(keycloak.issuer) and "id_token_hint=" in logout
    finally:
        await oidc.aclose()
