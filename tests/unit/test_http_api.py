"""The HTTP API kit without a database: problem documents, the body's gatekeeping, the
refused command's status, cursors, and the OpenAPI document."""

import asyncio
import json
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from fastapi import APIRouter
from pydantic import TypeAdapter, ValidationError

from harness.issuer import TestIssuer
from services.runtime.api import HttpApi, HttpProblem, Keyset, PageRequest, paginate, refusal_status
from services.runtime.api.query import CalendarDate
from services.runtime.identity import Authenticator, OidcSettings
from services.runtime.settings import ServiceSettings
from tests.integration.frontdoor.probe_api import probe_router

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def issuer():
    with TestIssuer() as running:
        yield running


def probe_api(oidc: OidcSettings) -> HttpApi:
    return HttpApi(ServiceSettings(service="probe", http_port=1), probe_router("test.notes"),
                   authenticator=Authenticator(oidc))


async def call(api: HttpApi, method: str, path: str, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://probe") as client:
        return await client.request(method, path, **kwargs)


def problem(response: httpx.Response, status: int, reason: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    document = response.json()
    assert document["status"] == status and document["reason"] == reason
    assert document["type"] == f"urn:advocacy:problem:{reason}" and document["title"]
    return document


async def test_a_command_before_the_service_started_is_unavailable_not_an_error(issuer):
    api = probe_api(issuer.settings())
    response = await call(api, "POST", "/api/people/adv-000001/notes", json={"text": "hello"},
                          headers={"Authorization": f"Bearer {issuer.token()}"})
    assert problem(response, 503, "unavailable")
    assert response.headers["retry-after"]


async def test_sign_in_while_the_issuer_is_away_is_unavailable_not_a_refusal(issuer):
    api = probe_api(OidcSettings(issuer="http://127.0.0.1:9/realms/nobody", audience=["advocacy"]))
    response = await call(api, "GET", "/api/notes", headers={"Authorization": f"Bearer {issuer.token()}"})
    problem(response, 503, "identity_unavailable")
    await api.stop()


async def test_sign_in_without_a_configured_issuer_is_unavailable(issuer):
    response = await call(probe_api(OidcSettings(issuer="")), "GET", "/api/notes",
                          headers={"Authorization": f"Bearer {issuer.token()}"})
    problem(response, 503, "identity_unavailable")


async def test_a_request_without_a_bearer_token_is_asked_to_sign_in(issuer):
    for headers in ({}, {"Authorization": "Basic YWxpY2U6c2VjcmV0"}, {"Authorization": "Bearer"}):
        response = await call(probe_api(issuer.settings()), "GET", "/api/notes", headers=headers)
        problem(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("headers", "body", "status", "reason"), [
    ({"Content-Type": "text/plain"}, b'{"text": "hi"}', 415, "unsupported_media_type"),
    ({"Content-Type": "application/x-www-form-urlencoded"}, b"text=hi", 415, "unsupported_media_type"),
    ({}, b'{"text": "hi"}', 415, "unsupported_media_type"),  # no content type at all
    ({"Content-Type": "application/json; charset=iso-8859-1"}, b'{"text": "h\xe9"}', 415, "unsupported_media_type"),
    ({"Content-Type": "application/json; charset=utf-16"}, '{"text": "hi"}'.encode("utf-16"), 415,
     "unsupported_media_type"),
    ([("Content-Type", "application/json"), ("Content-Type", "text/plain")], b'{"text": "hi"}', 400, "bad_request"),
    ({"Content-Type": "application/json; charset=utf-8; charset=latin1"}, b'{"text": "hi"}', 415,
     "unsupported_media_type"),
    ({"Content-Type": "application/+json"}, b'{"text": "hi"}', 415, "unsupported_media_type"),
    # A charset that is not ASCII read as none at all; one in RFC 2231's extended notation.
    ({"Content-Type": "application/json; charset=é".encode()}, b'{"text": "hi"}', 415, "unsupported_media_type"),
    ({"Content-Type": "application/json; charset*=utf-8''utf-8"}, b'{"text": "hi"}', 415,
     "unsupported_media_type"),
    ({"Content-Type": "application/json", "Content-Length": "999999"}, b"{}", 413, "body_too_large"),
])
async def test_a_body_is_refused_on_its_headers_before_anything_reads_it(issuer, headers, body, status, reason):
    # Not even signed in: the body's headers are checked first, and nothing else is done.
    response = await call(probe_api(issuer.settings()), "POST", "/api/people/adv-000001/notes",
                          content=body, headers=headers)
    problem(response, status, reason)


@pytest.mark.parametrize(("body", "what"), [
    (b"hello", "syntax"), (b"9" * 5_000, "an int past Python's 4,300 digits (ValueError)"),
    (b"[" * 30_000, "nesting past the recursion limit (RecursionError)"), (b"\xff\xfe{}", "not UTF-8"),
    ('{"text": "hi"}'.encode("utf-16"), "UTF-16 with a BOM"), ('{"text": "hi"}'.encode("utf-16-be"), "UTF-16"),
    ('{"text": "hi"}'.encode("utf-32"), "UTF-32"), (b'\xef\xbb\xbf{"text": "hi"}', "a UTF-8 BOM"),
    (b'{"text": "\\udc80"}', "an unpaired surrogate escape"), (b'{"text": "\xed\xb2\x80"}', "a surrogate in bytes"),
    (b"\x00", "a NUL"), (b'{"text": NaN}', "NaN"), (b"[Infinity]", "Infinity"), (b"-Infinity", "-Infinity"),
    (b'{"text": "a", "text": "b"}', "a name twice (I-JSON)"),
])
async def test_every_body_that_is_not_json_in_utf8_is_one_400_invalid_json(issuer, body, what):
    for signed_in in ({"Authorization": f"Bearer {issuer.token()}"}, {}):  # before sign-in, as FastAPI did
        response = await call(probe_api(issuer.settings()), "POST", "/api/people/adv-000001/notes", content=body,
                              headers={"Content-Type": "application/json", **signed_in})
        assert problem(response, 400, "invalid_json")["title"] == "Invalid JSON"


async def test_json_that_is_utf8_with_surrogate_pairs_and_escapes_is_taken(issuer):
    api = probe_api(issuer.settings())
    for text in ('"\\ud83d\\ude00 and \\\\udc80"', '"\U0001F600"'):
        body = b'{"text": ' + text.encode() + b"}"
        response = await call(api, "POST", "/api/people/adv-000001/notes", content=body,
                              headers={"Content-Type": "application/json", "Authorization": f"Bearer {issuer.token()}"})
        problem(response, 503, "unavailable")  # through the body and sign-in to the (absent) database


@pytest.mark.parametrize("content_type", [
    "application/json", "application/json; charset=UTF-8", "Application/JSON;charset=utf-8",
    "application/merge-patch+json", "application/json; charset=us-ascii", 'application/json; charset="utf-8"',
    "application/json;", "application/json; v=1; charset=utf-8", "application/json; charset=utf8"])
async def test_json_declared_plainly_or_in_utf8_is_read(issuer, content_type):
    response = await call(probe_api(issuer.settings()), "POST", "/api/people/adv-000001/notes",
                          content=b'{"text": "hi"}',
                          headers={"Content-Type": content_type, "Authorization": f"Bearer {issuer.token()}"})
    problem(response, 503, "unavailable")  # through the body and sign-in to the (absent) database


async def test_a_body_slower_than_the_limit_is_408_and_the_connection_closed(issuer):
    api = HttpApi(ServiceSettings(service="probe", http_port=1, http_body_timeout_seconds=0.2),
                  probe_router("test.notes"), authenticator=Authenticator(issuer.settings()))

    async def trickle():
        yield b'{"text": '
        await asyncio.sleep(1)
        yield b'"late"}'

    response = await call(api, "POST", "/api/people/adv-000001/notes", content=trickle(),
                          headers={"Content-Type": "application/json"})
    assert problem(response, 408, "request_timeout")["detail"]
    assert response.headers["connection"] == "close"


async def test_unknown_routes_and_methods_are_problems_too(issuer):
    api = probe_api(issuer.settings())
    problem(await call(api, "GET", "/api/nowhere"), 404, "not_found")
    response = await call(api, "DELETE", "/api/notes")
    problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]
    # A trailing slash is another path: no redirect built from the Host header the client sent.
    problem(await call(api, "GET", "/api/notes/", headers={"Host": "evil.example"}), 404, "not_found")


async def test_a_bug_answers_500_with_nothing_of_it_and_is_logged_without_its_message(issuer, caplog):
    caplog.set_level("DEBUG")
    response = await call(probe_api(issuer.settings()), "GET", "/api/bug",
                          headers={"Authorization": f"Bearer {issuer.token()}"})
    document = problem(response, 500, "internal_error")
    assert document["detail"] == "" and "jane" not in response.text
    logged = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(logged) == 1 and "RuntimeError" in logged[0].getMessage() and "bug" in logged[0].getMessage()
    assert "jane" not in caplog.text and not logged[0].exc_info


@pytest.mark.parametrize(("reason", "status"), [
    ("actor_not_subject", 403), ("not_permitted", 403), ("four_eyes_violation", 403),
    ("scheduled_sharing_not_consented", 403), ("unknown_item", 404), ("unknown_policy_version", 404),
    ("item_exists", 409), ("campaign_exists", 409), ("transition_not_allowed", 409),
    ("too_long", 422), ("invalid_period", 422), ("share_text_empty", 422),
])
def test_a_refused_command_answers_the_status_its_reason_calls_for(reason, status):
    assert refusal_status(reason) == status


def test_a_service_may_answer_its_own_reasons_with_another_status():
    assert refusal_status("too_long", {"too_long": 413}) == 413


def test_a_cursor_holds_the_position_of_the_last_item_shown_and_nothing_readable():
    keyset = Keyset(datetime, str)
    position = (datetime(2026, 12, 1, 9, 30, 0, 123456, tzinfo=UTC), "note-7")
    cursor = keyset.encode(position)
    assert keyset.decode(cursor) == position
    assert "note-7" not in cursor and "=" not in cursor


@pytest.mark.parametrize("cursor", [
    "not base64 at all!", Keyset(str).encode(("a",)), Keyset(datetime, str).encode(("2026-12-01T09:30:00", "x")),
    Keyset(int, str).encode((1, "x")), Keyset(str, str).encode(("yesterday", "x")), "W1s", "e30",
    # Shaped right, but nothing Postgres can compare: NUL or a lone surrogate in text, a time
    # beyond year 1 or 9999 once in UTC.
    Keyset(str, str).encode(("2026-12-01T09:30:00+00:00", "a\x00b")),
    Keyset(str, str).encode(("2026-12-01T09:30:00+00:00", "\ud800")),
    Keyset(str, str).encode(("0001-01-01T00:00:00+05:00", "x")), Keyset(str, str).encode(("9999-12-31T23:00:00-05:00", "x")),
])
def test_a_cursor_not_given_out_by_the_list_is_a_bad_request(cursor):
    with pytest.raises(HttpProblem) as refused:
        Keyset(datetime, str).decode(cursor)
    assert refused.value.status_code == 400 and refused.value.reason == "invalid_cursor"


def test_a_page_reads_one_row_more_than_it_shows_to_know_whether_another_follows():
    keyset = Keyset(datetime, str)
    start = datetime(2026, 12, 1, tzinfo=UTC)
    rows = [{"at": start - timedelta(minutes=n), "id": f"n{n}"} for n in range(4)]
    position = lambda row: (row["at"], row["id"])  # noqa: E731
    first = paginate(rows[:3], PageRequest(limit=2), keyset, position, lambda row: row["id"])
    assert first.items == ["n0", "n1"] and keyset.decode(first.next_cursor) == (rows[1]["at"], "n1")
    last = paginate(rows[2:4], PageRequest(limit=2, cursor=first.next_cursor), keyset, position, lambda r: r["id"])
    assert last.items == ["n2", "n3"] and last.next_cursor is None
    assert PageRequest().after(keyset) == (None, None)


def test_the_openapi_document_is_the_same_at_every_build_and_documents_problems_and_sign_in(issuer):
    documents = [json.dumps(probe_api(OidcSettings()).openapi(), sort_keys=True) for _ in range(2)]
    assert documents[0] == documents[1]
    document = json.loads(documents[0])
    take = document["paths"]["/api/people/{advocate_id}/notes"]["post"]
    assert take["security"] == [{"HTTPBearer": []}]
    assert document["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "An access token of the platform's OIDC issuer"}
    for status in ("400", "401", "403", "408", "413", "415", "422", "500", "503"):
        assert list(take["responses"][status]["content"]) == [PROBLEM], status
    assert "application/json" in take["responses"]["201"]["content"]
    listing = document["paths"]["/api/notes"]["get"]
    assert "413" not in listing["responses"] and "408" not in listing["responses"] and "401" in listing["responses"]
    assert "/api/bug" not in document["paths"]
    assert set(document["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status", "reason"}


def test_a_command_without_a_body_documents_the_body_checks_every_command_passes():
    """app.py reads and checks a body before any route: a body-less POST answers 408, 413 and
    415 to a body sent anyway, as one that reads it does."""
    router = APIRouter()

    @router.post("/people/{advocate_id}/withdrawals", status_code=204)
    async def withdraw(advocate_id: str) -> None:
        """A command that takes no body."""

    api = HttpApi(ServiceSettings(service="probe", http_port=1), router, authenticator=Authenticator(OidcSettings()))
    responses = api.openapi()["paths"]["/api/people/{advocate_id}/withdrawals"]["post"]["responses"]
    for status in ("400", "408", "413", "415", "422", "500", "503"):
        assert list(responses[status]["content"]) == [PROBLEM], status


def test_an_http_api_document_is_stale_until_exported_like_the_asyncapi_ones(tmp_path, monkeypatch):
    from services import export

    api = probe_api(OidcSettings())
    readme = tmp_path / "README.md"
    readme.write_text(export.readme_with_tables(export.README.read_text()))
    monkeypatch.setattr(export, "openapi_documents", lambda: {"openapi/probe.json": api.openapi()})
    assert "schemas/openapi/probe.json" in export.stale_files(tmp_path, readme)
    export.write(tmp_path, readme)
    assert export.stale_files(tmp_path, readme) == []
    added = APIRouter()

    @added.get("/version")
    async def version() -> dict[str, str]:
        return {}

    api.include(added)  # the API changed: its document is stale again
    assert export.stale_files(tmp_path, readme) == ["schemas/openapi/probe.json"]


def test_a_request_model_that_would_drop_unknown_fields_is_refused_when_the_api_is_built():
    from pydantic import BaseModel, ConfigDict

    class Address(BaseModel):  # extra="ignore", pydantic's default: an unknown field would vanish unseen
        city: str

    class Person(BaseModel):
        model_config = ConfigDict(extra="forbid")
        addresses: list[Address]

    router = APIRouter()

    @router.post("/people")
    async def add(person: Person) -> None:
        return None

    with pytest.raises(TypeError, match="Address must set extra='forbid'"):
        HttpApi(ServiceSettings(service="probe", http_port=1), router, authenticator=Authenticator(OidcSettings()))


@pytest.mark.parametrize("day", ["2026-12-01", date(2026, 12, 1)])
def test_a_calendar_date_query_parameter_is_a_full_date(day):
    assert TypeAdapter(CalendarDate).validate_python(day) == date(2026, 12, 1)


@pytest.mark.parametrize("day", ["1764547200", 1764547200, "2026-12-01T00:00:00Z", "2026-1-1", "+2026-12-01",
                                 datetime(2026, 12, 1), "2026-02-30"])
def test_a_calendar_date_query_parameter_refuses_what_lax_mode_took_for_one(day):
    """Seconds since 1970 and a date-time at midnight were read as a day."""
    with pytest.raises(ValidationError):
        TypeAdapter(CalendarDate).validate_python(day)
