"""Fast routes (services/runtime/api/fast.py, ADR 0031): the same endpoint answered without
FastAPI on its happy path, and every other request left to FastAPI, answered as before."""

import json
from enum import StrEnum

import httpx
import pytest
from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict

from harness.issuer import TestIssuer
from schemas.commands import Rejected
from services.runtime.api import Db, HttpApi, HttpProblem, SignedIn, database
from services.runtime.api.app import signed_in
from services.runtime.api.fast import FastCall, FastRoute
from services.runtime.identity import Authenticator, OidcSettings
from services.runtime.settings import ServiceSettings


class Kind(StrEnum):
    GOOD = "good"
    REFUSED = "refused"
    CONFLICT = "conflict"


class DoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    times: int


class Done(BaseModel):
    kind: Kind
    times: int
    by: str


def probe(oidc: OidcSettings, fast: bool) -> tuple[HttpApi, list[str]]:
    """An API with one command, declared in FastAPI and (if `fast`) as a fast route too;
    the list says which path answered each request the endpoint saw."""
    router, seen = APIRouter(), []

    @router.post("/things/{kind}/do")
    async def do(kind: Kind, body: DoIn, me: SignedIn, db: Db) -> Done:
        if kind is Kind.REFUSED:
            raise Rejected("not_in_directory", "a rule refuses it")
        if kind is Kind.CONFLICT:
            raise HttpProblem(409, "already_applied", "done before")
        return Done(kind=kind, times=body.times, by=me.advocate_id)

    @router.post("/things/{kind}/make", status_code=201)
    async def make(kind: Kind, body: DoIn, me: SignedIn, db: Db, response: Response) -> Done:
        done = await do(kind, body, me, db)
        response.headers["Location"] = f"/things/{done.times}"
        return done

    async def do_fast(call: FastCall) -> Done:
        seen.append("fast")
        assert isinstance(call.body, DoIn)
        return await do(call.params["kind"], call.body, call.principal, call.db)

    async def make_fast(call: FastCall) -> Done:
        seen.append("fast")
        assert isinstance(call.body, DoIn)
        done = await do(call.params["kind"], call.body, call.principal, call.db)
        call.headers["Location"] = f"/things/{done.times}"
        return done

    here = (signed_in, database)
    routes = [FastRoute("/things/{kind}/do", do_fast, {"kind": Kind}, DoIn, dependencies=here),
              FastRoute("/things/{kind}/make", make_fast, {"kind": Kind}, DoIn, status_code=201, dependencies=here)] \
        if fast else []
    api = HttpApi(ServiceSettings(service="probe", http_port=1), router, authenticator=Authenticator(oidc),
                  fast_routes=routes)
    api.pool = object()  # type: ignore[assignment]  # started, as far as these endpoints care
    return api, seen


@pytest.fixture(scope="module")
def issuer():
    with TestIssuer() as running:
        yield running


async def call(api: HttpApi, path: str, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://probe") as client:
        return await client.post(path, **kwargs)


@pytest.mark.parametrize(("path", "body", "token", "fast_answered"), [
    ("/api/things/good/do", {"times": 3}, True, True),
    ("/api/things/refused/do", {"times": 3}, True, True),  # the endpoint's refusal, as FastAPI answers it
    ("/api/things/conflict/do", {"times": 3}, True, True),
    ("/api/things/good/do", {"times": "x"}, True, False),  # invalid body: FastAPI's 422
    ("/api/things/good/do", {"times": 3, "more": 1}, True, False),  # unknown field
    ("/api/things/good/do", None, True, False),  # no body
    ("/api/things/bad/do", {"times": 3}, True, False),  # a path parameter that does not convert
    ("/api/things/good/do", {"times": 3}, False, False),  # not signed in: FastAPI's 401
])
@pytest.mark.parametrize("command", ["do", "make"])  # make: 201 with a Location
async def test_a_fast_route_answers_what_fastapi_answers(issuer, path, body, token, fast_answered, command):
    headers = {"Authorization": f"Bearer {issuer.token()}"} if token else {}
    path = path.replace("/do", f"/{command}")
    answers = []
    for fast in (False, True):
        api, seen = probe(issuer.settings(), fast)
        response = await call(api, path, json=body, headers=headers) if body is not None else \
            await call(api, path, headers={**headers, "Content-Type": "application/json"})
        answers.append((response.status_code, response.headers["content-type"], response.content,
                        response.headers.get("www-authenticate"), response.headers.get("location")))
        assert seen == (["fast"] if fast and fast_answered else [])
        await api.stop()
    assert answers[0] == answers[1]


NOT_JSON = [b"hello", b"9" * 5000, b"[" * 30_000, b"\xff{}", "{\"times\": 3}".encode("utf-16"),
            "{\"times\": 3}".encode("utf-32-le"), b"\xef\xbb\xbf{\"times\": 3}", b'{"times": 3, "x": "\\udc80"}',
            b'{"times": 3, "x": "\xed\xb2\x80"}']


@pytest.mark.parametrize("body", NOT_JSON)
@pytest.mark.parametrize("token", [True, False])
async def test_a_body_that_is_not_json_in_utf8_is_one_answer_on_both_paths(issuer, body, token):
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {issuer.token()}"} if token else {})}
    answers = []
    for fast in (False, True):
        api, seen = probe(issuer.settings(), fast)
        response = await call(api, "/api/things/good/do", content=body, headers=headers)
        answers.append((response.status_code, response.headers["content-type"], response.content))
        assert seen == []
        await api.stop()
    assert answers[0] == answers[1]
    assert answers[0][0] == 400 and json.loads(answers[0][2])["reason"] == "invalid_json"


async def test_a_refused_token_goes_to_fastapi_and_is_refused_there(issuer):
    api, seen = probe(issuer.settings(), fast=True)
    response = await call(api, "/api/things/good/do", json={"times": 1},
                          headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401 and response.json()["reason"] == "unauthenticated"
    assert seen == []
    await api.stop()


def test_fast_routes_leave_the_openapi_document_as_it_was(issuer):
    assert probe(issuer.settings(), fast=False)[0].openapi() == probe(issuer.settings(), fast=True)[0].openapi()


async def test_only_the_first_authorization_header_counts_as_fastapi_reads_it(issuer):
    api, seen = probe(issuer.settings(), fast=True)
    headers = [("Authorization", "Basic dXNlcjpwYXNz"), ("Authorization", f"Bearer {issuer.token()}")]
    response = await call(api, "/api/things/good/do", json={"times": 1}, headers=headers)
    assert response.status_code == 401 and seen == []
    await api.stop()


async def test_a_service_stopping_while_a_caller_signs_in_answers_503_not_500(issuer):
    api, seen = probe(issuer.settings(), fast=True)
    principal = api.authenticator.principal

    async def stopping_meanwhile(token: str):
        api.pool = None  # `stop()` ran while the token was being verified
        return await principal(token)

    api.authenticator.principal = stopping_meanwhile  # type: ignore[method-assign]
    response = await call(api, "/api/things/good/do", json={"times": 1},
                          headers={"Authorization": f"Bearer {issuer.token()}"})
    assert response.status_code == 503 and seen == []
    await api.stop()


async def editors_only() -> None: ...


@pytest.mark.parametrize(("declared", "refusal"), [
    ({"dependencies": [Depends(editors_only)]}, "other parameters or dependencies"),  # checks more
    ({"status_code": 201}, "answers 200, its FastAPI route 201"),
    ({"response_model_exclude_none": True}, "shapes its answer otherwise"),
    ({"response_model_exclude": {"by"}}, "shapes its answer otherwise"),
    ({"response_model_by_alias": False}, "shapes its answer otherwise"),
])
def test_a_fast_route_its_declared_route_would_answer_otherwise_is_refused(issuer, declared, refusal):
    router = APIRouter()

    @router.post("/things/{kind}/do", **declared)
    async def do(kind: Kind, body: DoIn, me: SignedIn, db: Db) -> Done:
        raise AssertionError("not called")

    async def do_fast(call: FastCall) -> Done:
        raise AssertionError("not called")

    with pytest.raises(TypeError, match=refusal):
        HttpApi(ServiceSettings(service="probe", http_port=1), router, authenticator=Authenticator(issuer.settings()),
                fast_routes=[FastRoute("/things/{kind}/do", do_fast, {"kind": Kind}, DoIn,
                                       dependencies=(signed_in, database))])
