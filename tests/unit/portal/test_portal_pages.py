"""The portal's pages with the issuer and the services stood in for: sign-in and its
return to the page, the session cookie, CSRF, the consent centre's rules, refusals as
sentences in the page's language, an expired session."""

import re

import pytest
from fastapi.testclient import TestClient

from services.portal.apis import Problem
from services.portal.config import PortalSettings
from services.portal.web import build_app
from services.runtime.identity import Principal
from tests.unit.portal.fakes import ME, PURPOSES, FakeApis, FakeOidc, consent

BASE = "http://127.0.0.1:8085"


def portal(routes, oidc=None, **settings):
    oidc = oidc or FakeOidc()
    apis = FakeApis(routes)
    app = build_app(PortalSettings(**{"portal_public_url": BASE, **settings}), oidc=oidc, apis=apis)
    return TestClient(app, base_url=BASE, follow_redirects=False, raise_server_exceptions=False), apis, oidc


def sign_in(client: TestClient, next_path: str = "/consent"):
    to_issuer = client.get(f"/auth/login?next={next_path}")
    assert to_issuer.status_code == 303 and to_issuer.headers["location"].startswith("https://issuer.test/auth")
    return client.get("/auth/callback?code=good-code&state=state-1")


def csrf_of(page_html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page_html).group(1)


MINE = {"consents": [consent(p) for p in PURPOSES]}


def test_a_page_asks_an_unknown_browser_to_sign_in_and_comes_back_to_it():
    client, _, _ = portal({("GET", "consent", "/api/me/consents"): MINE})
    answer = client.get("/consent?x=1")
    assert answer.status_code == 303 and answer.headers["location"] == "/auth/login?next=%2Fconsent%3Fx%3D1"
    back = sign_in(client, "/consent%3Fx%3D1")
    assert back.status_code == 303 and back.headers["location"] == "/consent?x=1"


def test_the_session_cookie_is_an_opaque_id_http_only_same_site_and_not_secure_on_loopback_only():
    client, _, _ = portal({})
    cookie = sign_in(client).headers["set-cookie"]
    assert cookie.startswith("portal_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie and "access-1" not in cookie and len(cookie.split(";")[0]) < 64
    secure, _, _ = portal({}, portal_public_url="https://portal.example.com")
    secure.base_url = "https://portal.example.com"
    to_issuer = secure.get("https://portal.example.com/auth/login?next=/")
    assert "__Host-portal_signin=" in to_issuer.headers["set-cookie"] and "Secure" in to_issuer.headers["set-cookie"]


def test_a_callback_with_another_state_signs_nobody_in():
    client, _, _ = portal({})
    client.get("/auth/login?next=/consent")
    answer = client.get("/auth/callback?code=good-code&state=forged")
    assert answer.status_code == 400 and "portal_session=" not in answer.headers.get("set-cookie", "")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_sign_in_returns_only_to_a_page_of_the_portal(target):
    client, _, _ = portal({})
    client.get("/auth/login", params={"next": target})
    assert sign_in(client, "/").headers["location"] == "/"
    client2, _, _ = portal({})
    client2.get("/auth/login", params={"next": target})
    assert client2.get("/auth/callback?code=good-code&state=state-1").headers["location"] == "/"


def test_the_consent_centre_offers_yes_and_no_for_every_unanswered_purpose_and_selects_nothing():
    client, _, _ = portal({("GET", "consent", "/api/me/consents"): MINE})
    sign_in(client)
    html = client.get("/consent").text
    assert html.count('data-action="give"') == html.count('data-action="refuse"') == 5
    assert "checked" not in html and "data-action=\"withdraw\"" not in html
    assert len(html.encode()) < 50_000


def test_a_given_purpose_offers_withdrawing_and_a_new_version_asking_renewal_is_shown_as_such():
    mine = {"consents": [consent("receive_content", "given", valid=True),
                         consent("share_attribution", "renewal_requested", version=1, current=2, renewal=True),
                         *[consent(p) for p in PURPOSES[2:]]]}
    client, _, _ = portal({("GET", "consent", "/api/me/consents"): mine})
    sign_in(client)
    html = client.get("/consent").text
    given = html[html.index('id="purpose-receive_content"'):html.index('id="purpose-share_attribution"')]
    assert 'data-action="withdraw"' in given and 'data-action="give"' not in given
    renewal = html[html.index('id="purpose-share_attribution"'):html.index('id="purpose-network_reach"')]
    assert "New version: please answer again." in renewal and "now version 2" in renewal
    assert 'name="policy_version" value="2"' in renewal


def test_giving_sends_the_version_shown_with_an_idempotency_key_and_says_so_next_to_the_purpose():
    routes = {("GET", "consent", "/api/me/consents"): MINE,
              ("POST", "consent", "/api/me/consents/leaderboard/give"): consent("leaderboard", "given", True)}
    client, apis, _ = portal(routes)
    sign_in(client)
    token = csrf_of(client.get("/consent").text)
    answer = client.post("/consent/leaderboard/give", data={"csrf": token, "idem": "k-1", "policy_version": "1"})
    assert answer.status_code == 303 and answer.headers["location"] == "/consent#purpose-leaderboard"
    assert apis.calls[-1][:5] == ("POST", "consent", "/api/me/consents/leaderboard/give",
                                  {"policy_version": 1, "collection_method": "web_form"}, "k-1")
    html = client.get("/consent").text
    section = html[html.index('id="purpose-leaderboard"'):html.index('id="purpose-scheduled_sharing"')]
    assert "Thank you: your consent is recorded." in section


@pytest.mark.parametrize("version", ["²", "١", "x", ""])
def test_a_policy_version_that_is_not_ascii_digits_is_asked_for_again_not_sent(version):
    """"²" and "١" are digits to str.isdigit() but not to int(): the page answered 500."""
    client, apis, _ = portal({("GET", "consent", "/api/me/consents"): MINE})
    sign_in(client)
    token = csrf_of(client.get("/consent").text)
    answer = client.post("/consent/leaderboard/give", data={"csrf": token, "policy_version": version})
    assert answer.status_code == 303
    assert not [c for c in apis.calls if c[0] == "POST"]


def test_a_form_without_the_sessions_csrf_token_or_from_another_origin_is_refused():
    routes = {("GET", "consent", "/api/me/consents"): MINE}
    client, apis, _ = portal(routes)
    sign_in(client)
    token = csrf_of(client.get("/consent").text)
    assert client.post("/consent/leaderboard/withdraw", data={"csrf": "forged"}).status_code == 403
    assert client.post("/consent/leaderboard/withdraw", data={"csrf": token},
                       headers={"Origin": "https://evil.example"}).status_code == 403
    assert not [c for c in apis.calls if c[0] == "POST"]


def test_a_refusal_appears_as_a_sentence_in_the_pages_language_next_to_its_purpose():
    routes = {("GET", "consent", "/api/me/consents"): MINE,
              ("POST", "consent", "/api/me/consents/receive_content/give"):
                  Problem("consent", 409, "outdated_policy_version", "Outdated policy version")}
    client, _, _ = portal(routes)
    sign_in(client)
    client.cookies.set("lang", "de")
    token = csrf_of(client.get("/consent").text)
    client.post("/consent/receive_content/give", data={"csrf": token, "policy_version": "1"})
    html = client.get("/consent").text
    section = html[html.index('id="purpose-receive_content"'):html.index('id="purpose-share_attribution"')]
    assert 'role="alert"' in section and "Eine neuere Version dieser Erklärung wurde veröffentlicht" in section


def test_an_access_token_about_to_expire_is_renewed_and_a_refused_renewal_leads_back_to_sign_in():
    client, apis, oidc = portal({("GET", "consent", "/api/me/consents"): MINE}, )
    sign_in(client)
    session = next(iter(client.app.state.portal.sessions._sessions.values()))
    session.tokens.expires_at = 0  # expired
    assert client.get("/consent").status_code == 200 and apis.calls[-1][5] == "access-2" and oidc.refreshed == 1
    session.tokens.expires_at = 0
    oidc.refusing = True
    answer = client.get("/feed")
    assert answer.status_code == 303 and answer.headers["location"] == "/auth/login?next=%2Ffeed"
    assert len(client.app.state.portal.sessions) == 0


def test_pages_load_nothing_from_elsewhere_and_forbid_framing():
    client, _, _ = portal({})
    headers = client.get("/").headers
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "http" not in policy.split("form-action")[0]  # no third-party origin but the issuer's form target
    assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"


def test_the_language_comes_from_accept_language_and_the_switch_overrides_it():
    client, _, _ = portal({})
    assert 'lang="de"' in client.get("/", headers={"Accept-Language": "fr;q=1, de-AT;q=0.8, en;q=0.5"}).text
    assert client.get("/lang/en?next=/").headers["set-cookie"].startswith("lang=en")
    client.cookies.set("lang", "en")
    assert 'lang="en"' in client.get("/", headers={"Accept-Language": "de"}).text


def test_erasing_oneself_ends_the_session_and_says_when():
    routes = {("DELETE", "consent", "/api/me"): {"advocate_id": "adv-unit-0001",
                                                 "erased_at": "2026-11-30T10:00:00+00:00", "erased_by": "subject",
                                                 "ledger_hash": "0" * 64},
              ("GET", "consent", "/api/me/consents"): MINE}
    client, _, _ = portal(routes)
    sign_in(client)
    token = csrf_of(client.get("/consent/erase").text)
    answer = client.post("/consent/erase", data={"csrf": token})
    assert answer.status_code == 200 and "You have been erased" in answer.text
    assert client.get("/consent").status_code == 303  # signed out


def test_the_editors_item_list_filters_by_status_and_a_bug_still_answers_a_page_not_a_stack_trace():
    routes = {("GET", "curation", "/api/items"): {"items": [{
        "item_id": "item-0001", "status": "draft", "title": "Canteen", "campaign_id": None, "version": 1,
        "revision_pending": False, "title_from_text": False, "created_at": "2026-11-30T10:00:00+00:00",
        "updated_at": "2026-11-30T10:00:00+00:00"}], "next_cursor": None}}
    client, _, _ = portal(routes, oidc=FakeOidc(Principal(ME, frozenset({"editor"}))))
    sign_in(client)
    listed = client.get("/editor/items?status=draft")
    assert listed.status_code == 200 and 'href="/editor/items/item-0001"' in listed.text
    broken = client.get("/editor/review")  # no route for it in the stand-in: a KeyError in the page
    assert broken.status_code == 500 and "Something went wrong on our side" in broken.text


FEED_ITEM = {"item_id": "item-0001", "title": "Canteen", "summary": "", "source_url": "https://example.com/a",
             "image_url": None, "campaign_id": None, "language": "en", "disclosure": "#employee", "editable": False,
             "delivered_at": "2026-11-30T10:00:00+00:00", "posts": [
                 {"network": "linkedin", "text": "Canteen", "post": "Canteen\n#employee\nhttps://l/r/x", "length": 31,
                  "max_length": 3000, "counting": "code points (NFC)", "fits": True, "share_intent": True,
                  "intent_carries_text": False}]}


def test_the_feed_offers_scheduling_only_with_scheduled_sharing_and_otherwise_says_why():
    without = {"consents": [consent("receive_content", "given", True), *[consent(p) for p in PURPOSES[1:]]]}
    routes = {("GET", "distribution", "/api/me/feed"): {"items": [FEED_ITEM], "next_cursor": None},
              ("GET", "consent", "/api/me/consents"): without}
    client, _, _ = portal(routes)
    sign_in(client)
    html = client.get("/feed").text
    assert 'name="scheduled_at"' not in html and 'id="no-scheduling"' in html
    assert "composer takes only the link" in html and "31 of 3,000 characters" in html
    routes[("GET", "consent", "/api/me/consents")] = {"consents": [
        consent("receive_content", "given", True), *[consent(p) for p in PURPOSES[1:4]],
        consent("scheduled_sharing", "given", True)]}
    html = client.get("/feed").text
    assert 'name="scheduled_at"' in html and 'id="no-scheduling"' not in html


def test_a_scheduled_time_is_sent_in_the_portals_time_zone_and_a_refusal_shows_beside_that_network():
    routes = {("POST", "distribution", "/api/me/shares"): Problem("distribution", 422, "scheduled_in_the_past"),
              ("GET", "distribution", "/api/me/feed"): {"items": [FEED_ITEM], "next_cursor": None},
              ("GET", "consent", "/api/me/consents"): MINE}
    client, apis, _ = portal(routes)
    sign_in(client)
    token = csrf_of(client.get("/feed").text)
    answer = client.post("/feed/share", data={"csrf": token, "item_id": "item-0001", "network": "linkedin",
                                              "scheduled_at": "2026-12-01T09:30"})
    assert answer.headers["location"] == "/feed#share-item-0001-linkedin"
    assert apis.calls[-1][3] == {"item_id": "item-0001", "network": "linkedin",
                                 "scheduled_at": "2026-12-01T09:30:00+01:00"}  # Europe/Berlin in winter
    html = client.get("/feed").text
    section = html[html.index('id="share-item-0001-linkedin"'):]
    assert "The time you chose has passed" in section


def test_a_scheduled_share_can_be_cancelled_and_impact_without_attribution_says_what_it_would_show():
    share = {"share_id": "share-0001", "item_id": "item-0001", "campaign_id": None, "network": "x", "post": "p",
             "tracked_url": "https://l/r/x", "share_intent_url": None, "intent_carries_text": True,
             "status": "scheduled", "scheduled_at": "2026-12-01T08:30:00+00:00", "created_at": "2026-11-30T10:00:00+00:00"}
    routes = {("GET", "distribution", "/api/me/shares"): {"items": [share], "next_cursor": None},
              ("POST", "distribution", "/api/me/shares/share-0001/cancel"): {**share, "status": "cancelled"},
              ("GET", "metrics", "/api/me/impact"): Problem("metrics", 403, "attribution_not_consented")}
    client, apis, _ = portal(routes)
    sign_in(client)
    html = client.get("/shares").text
    assert 'action="/shares/share-0001/cancel"' in html
    client.post("/shares/share-0001/cancel", data={"csrf": csrf_of(html)})
    assert apis.calls[-1][:3] == ("POST", "distribution", "/api/me/shares/share-0001/cancel")
    assert "Cancelled: it will not be posted." in client.get("/shares").text
    impact = client.get("/impact")
    assert impact.status_code == 200 and 'data-absent="impact"' in impact.text


def test_outside_local_mode_the_portal_refuses_the_shipped_client_secret_and_a_missing_key():
    from services.portal.config import PortalSettings

    shipped = PortalSettings(advocacy_env="production")
    assert shipped.refusals() == ["PORTAL_CLIENT_SECRET is not set",
                                  "PORTAL_SECRET_KEY is not set or shorter than 32 characters"]
    own = PortalSettings(advocacy_env="production", portal_client_secret="s" * 40, portal_secret_key="k" * 40)
    assert own.refusals() == []
    assert PortalSettings(advocacy_env="local").refusals() == []
