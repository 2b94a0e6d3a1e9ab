"""The OpenAPI document of a service's HTTP API, as it is served and as it is exported to
`schemas/openapi/<service>.json` beside the AsyncAPI documents (schemas/export.py writes
both; a test fails while either is stale)."""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from services.runtime.api.problems import MEDIA_TYPE, Problem

_PROBLEM_REF = "#/components/schemas/Problem"


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route (or router) that may answer these statuses with a problem."""
    return {status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in statuses}


def document_problems(app: FastAPI) -> None:
    """Make `app.openapi()` say what the API does: problems are `application/problem+json`
    (FastAPI files every model under the route's media type, application/json); a route
    that takes a bearer token may answer 401; any POST, PUT, PATCH or DELETE 408, 413 and 415,
    whether or not it reads a body (app.py reads and checks one before any route)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description,
                                   routes=app.routes)
            for path in document.get("paths", {}).values():
                for method, operation in path.items():
                    if method in ("post", "put", "patch", "delete") and operation.get("security"):
                        _idempotency_key(operation)
                    _problems_as_problem_json(method, operation)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend it


def _problems_as_problem_json(method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    implied = [408, 413, 415] if method in ("post", "put", "patch", "delete") else []  # app.py's body checks
    if operation.get("security"):
        implied.append(401)
    for status in implied:
        responses.setdefault(str(status), {"description": HTTPStatus(status).phrase,
                                           "content": {"application/json": {"schema": {"$ref": _PROBLEM_REF}}}})
    for response in responses.values():
        content = response.get("content", {})
        if content.get("application/json", {}).get("schema", {}).get("$ref") == _PROBLEM_REF:
            content[MEDIA_TYPE] = content.pop("application/json")


def _idempotency_key(operation: dict[str, Any]) -> None:
    """A signed-in command may carry an `Idempotency-Key` (app.py, `Database.command`)."""
    operation.setdefault("parameters", []).append({
        "name": "Idempotency-Key", "in": "header", "required": False,
        "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,128}$"},
        "description": "A new random value (a UUID) per request, sent again with its retries: a request "
                       "already applied is not applied twice but answered 409 `already_applied`; a key "
                       "spent on another request (method, path or body) is answered 422 "
                       "`idempotency_key_reused` and nothing is applied"})
    operation.setdefault("responses", {}).setdefault("409", {
        "description": "Conflict", "content": {"application/json": {"schema": {"$ref": _PROBLEM_REF}}}})
