"""Who may use the editors' front door, and what it does with bad input: 401 without a
valid token, 403 for a role an endpoint does not admit, 4xx problems for whatever a client
sends (never a 500, never the value echoed), and nothing written by a refused request.

Curation has no person's own data: no path names a person, and the audit trail's `actor`
filter answers an empty page alike for nobody and for somebody who did nothing."""

import json

import httpx

from services.runtime.api.app import DEFAULT_MAX_BODY_BYTES
from tests.integration.curation.curation_rig import EDITOR, content

ID = "item-access-0001"
ROLES = ("advocate", "editor", "approver", "analyst", "privacy_officer", "operator")
EDITORS, APPROVERS, READERS = {"editor"}, {"approver"}, {"editor", "approver"}
ENDPOINTS = [  # method, path, the roles it admits
    ("POST", "/api/items", EDITORS), ("GET", "/api/items", READERS), ("GET", f"/api/items/{ID}", READERS),
    ("PUT", f"/api/items/{ID}", EDITORS), ("POST", f"/api/items/{ID}/submit", EDITORS),
    ("POST", f"/api/items/{ID}/approve", APPROVERS), ("POST", f"/api/items/{ID}/send-back", APPROVERS),
    ("POST", f"/api/items/{ID}/publish", APPROVERS), ("POST", f"/api/items/{ID}/retract", READERS),
    ("GET", "/api/review-queue", APPROVERS),
    ("POST", "/api/campaigns", EDITORS), ("PUT", f"/api/campaigns/{ID}", EDITORS), ("GET", "/api/campaigns", READERS),
    ("GET", f"/api/campaigns/{ID}", READERS),
    ("POST", "/api/sources", EDITORS), ("GET", "/api/sources", EDITORS), ("GET", f"/api/sources/{ID}", EDITORS),
    ("POST", f"/api/sources/{ID}/pause", EDITORS), ("POST", f"/api/sources/{ID}/resume", EDITORS),
    ("DELETE", f"/api/sources/{ID}", EDITORS),
    ("GET", "/api/audit", {"editor", "privacy_officer"}),
]
SECRET = "jane.doe@example.com"  # a value no answer may quote


async def nothing_written(api) -> bool:
    counts = [await api.count(table) for table in ("items", "campaigns", "sources", "audit", "outbox")]
    return counts == [0, 0, 0, 0, 0]


async def test_every_endpoint_refuses_a_request_without_a_valid_token(curation_api):
    api = curation_api
    every_role = {"realm_access": {"roles": list(ROLES)}}
    bad_tokens = (None, api.issuer.tampered_token(**every_role), api.issuer.unsigned_token(**every_role))
    for method, path, _ in ENDPOINTS:
        for token in bad_tokens:
            response = await api.call(method, path, {}, token=token)
            assert response.status_code == 401, (method, path)
            assert response.json()["reason"] == "unauthenticated" and "Bearer" in response.headers["www-authenticate"]
    assert await nothing_written(api)


async def test_every_endpoint_answers_403_to_each_role_it_does_not_admit_and_lets_the_others_in(curation_api):
    api = curation_api
    for method, path, admitted in ENDPOINTS:
        for role in ROLES:
            response = await api.as_("person-roles-1", (role,), method, path, {})
            if role in admitted:  # in, and then refused for what it asked: an empty body, an unknown id
                assert response.status_code in (200, 404, 422), (method, path, role, response.text)
            else:
                assert (response.status_code, response.json()["reason"]) == (403, "not_permitted"), (method, path, role)
    assert await nothing_written(api)


async def test_the_audit_trail_tells_nobody_apart_from_somebody_who_did_nothing(curation_api):
    api = curation_api
    await api.as_("editor-ada", EDITOR, "POST", "/api/items", {"item_id": ID, "content": content().model_dump(mode="json")})
    pages = [await api.as_("officer-1", ("privacy_officer",), "GET", f"/api/audit?actor={who}")
             for who in ("nobody-at-all-1", "editor-ben")]
    assert [(p.status_code, p.json()) for p in pages] == [(200, {"items": [], "next_cursor": None})] * 2


BAD_DRAFTS = {
    "invalid JSON": ({"content": b'{"content": {', "headers": {"Content-Type": "application/json"}}, 400,
                     "invalid_json"),
    "an actor in the body": ({"json": {"actor": "editor-ben", "content": {}}}, 422, "invalid_request"),
    "an unknown field in the content": ({"json": {"content": {"email": SECRET}}}, 422, "invalid_request"),
    "a wrong type": ({"json": {"content": {"title": {"nested": SECRET}}}}, 422, "invalid_request"),
    "an id of the wrong shape": ({"json": {"item_id": SECRET}}, 422, "invalid_request"),
    "a body over the limit": ({"json": {"content": {"title": "x" * DEFAULT_MAX_BODY_BYTES}}}, 413, "body_too_large"),
    "text/plain": ({"content": json.dumps({"x": SECRET}), "headers": {"Content-Type": "text/plain"}}, 415,
                   "unsupported_media_type"),
}


async def test_a_bad_request_is_a_4xx_problem_that_quotes_nothing_and_writes_nothing(curation_api):
    api = curation_api
    valid = content().model_dump(mode="json")
    token = api.issuer.token("editor-ada", realm_roles=EDITOR)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api.settings.http_port}") as client:
        for case, (request, status, reason) in BAD_DRAFTS.items():
            if "json" in request:  # a whole valid draft with the fault in it
                sent = request["json"]
                request = {"json": {**sent, "content": {**valid, **sent.get("content", {})}}}
            headers = {"Authorization": f"Bearer {token}", **request.get("headers", {})}
            response = await client.post("/api/items", headers=headers,
                                         **{k: v for k, v in request.items() if k != "headers"})
            assert response.status_code == status, (case, response.text)
            assert response.headers["content-type"] == "application/problem+json", case
            assert response.json()["reason"] == reason and SECRET not in response.text, case
    assert await nothing_written(api)


async def test_a_draft_the_rules_refuse_is_a_problem_with_the_rejections_reason_and_leaves_nothing(curation_api):
    api = curation_api
    valid = content().model_dump(mode="json")
    assert (await api.as_("editor-ada", EDITOR, "POST", "/api/items", {"item_id": ID, "content": valid})).status_code == 201
    refused = {
        "invalid_url": (422, {"content": {**valid, "source_url": "javascript:alert(1)"}}),
        "share_text_too_long": (422, {"content": {**valid, "share_texts": {"x": "x" * 300}}}),
        "unknown_campaign": (404, {"content": {**valid, "campaign_id": "campaign-nowhere"}}),
        "item_exists": (409, {"item_id": ID, "content": valid}),
    }
    for reason, (status, draft) in refused.items():
        response = await api.as_("editor-ada", EDITOR, "POST", "/api/items", draft)
        assert (response.status_code, response.json()["reason"]) == (status, reason)
        assert response.json()["detail"]  # the rule's words for people
    bad_path = await api.as_("editor-ada", EDITOR, "PUT", "/api/items/a%20b", {"content": valid})
    assert (bad_path.status_code, bad_path.json()["reason"]) == (422, "invalid_request")

    assert [r["id"] for r in await api.fetch("SELECT id FROM items")] == [ID]
    assert await api.count("audit") == 1
    events = await api.until_emitted(lambda e: True, 1)
    assert [e["type"] for e in events] == ["advocacy.curation.item.drafted.v1"]  # no rejection event over HTTP
