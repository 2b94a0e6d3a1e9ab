"""Fast routes: a service's busiest commands answered without FastAPI's machinery (ADR 0031).

FastAPI's middlewares, routing, dependency solving and response validation cost a consent
command about as much CPU as its transaction (py-spy: a third of the process's time at
500 commands/s). A `FastRoute` answers the same request on the same path with the same
endpoint function, called directly: the route stays declared in FastAPI too, which
documents it (the OpenAPI document is unchanged) and answers every request the fast route
does not take.

A fast route takes a request only on its happy path up to the endpoint: a valid bearer
token, path parameters that convert, a JSON body that validates (or none, for a route
without one), the service started. `HttpApi` has read the body and parsed its JSON (or
refused it) before either path sees it. Anything else (no token, a refused one, a body
that is not the model) goes to FastAPI unchanged, body included, and is answered there
as it always was. Once the endpoint runs, its refusals (`Rejected`, `HttpProblem`) are
answered by the API's own exception handlers, as FastAPI would; a bug propagates to
`HttpApi`, which logs it and answers 500, as before.
"""

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from services.runtime.identity import Principal

if TYPE_CHECKING:
    from services.runtime.api.app import Database


@dataclass(frozen=True)
class FastCall:
    """What a fast route's handler gets: converted path parameters, the validated body
    (None for a route without one), who signed in, and the request's `Db`. `headers`: the
    answer's own headers, set by the handler as a FastAPI endpoint sets them on its
    `Response` parameter (`Location` of what a 201 created)."""

    params: Mapping[str, Any]
    body: BaseModel | None
    principal: Principal
    db: "Database"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FastRoute:
    """POST (or `method`) on `path` (FastAPI's syntax, `{name}` for a parameter converted by
    `params[name]`; a conversion that raises sends the request to FastAPI). `body`: the
    model the JSON body must validate against, or None. `handle` returns the answer (JSON,
    `status_code`, which must be the declared route's) or raises as the endpoint would."""

    path: str
    handle: Callable[[FastCall], Awaitable[BaseModel]]
    params: Mapping[str, Callable[[str], Any]]
    body: type[BaseModel] | None = None
    method: str = "POST"
    status_code: int = 200
    # The FastAPI dependencies of the declared route that `handle` does itself (who signed in,
    # the database): `HttpApi` refuses a route declared with any other, so a check added to
    # the FastAPI route later (a role, a header) cannot be skipped here unnoticed.
    dependencies: tuple[Callable[..., Any], ...] = ()

    def pattern(self, prefix: str) -> re.Pattern[str]:
        return re.compile(re.escape(prefix) + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)))


class Declined(Exception):
    """The fast route does not take this request: FastAPI answers it."""


def replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` that first gives back `body`, read already (by `HttpApi`, before any route)."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def bearer_token(scope: Scope) -> str:
    """The token of the request's first Authorization header, read as FastAPI's HTTPBearer
    reads it (a second header is never looked at); Declined if it is not `Bearer <token>`."""
    value = next((bytes(v) for name, v in scope["headers"] if name == b"authorization"), b"")
    scheme, _, token = value.decode("latin-1").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        return token
    raise Declined


def parsed(route: FastRoute, body: bytes, value: Any) -> BaseModel | None:
    """The body (`value`, its JSON, which `HttpApi` read and parsed before any route saw it)
    validated as FastAPI validates it; Declined otherwise (none sent, or not the model)."""
    if route.body is None:
        return None
    if not body:
        raise Declined
    try:
        return route.body.model_validate(value)
    except Exception:
        raise Declined from None


def converted(route: FastRoute, match: re.Match[str]) -> dict[str, Any]:
    try:
        return {name: route.params[name](value) for name, value in match.groupdict().items()}
    except Exception:
        raise Declined from None


async def answer(route: FastRoute, call: FastCall, model: BaseModel, scope: Scope, receive: Receive,
                 send: Send) -> None:
    """The model as JSON with the route's status and the headers the handler set, as FastAPI
    answers an endpoint's return value."""
    await Response(model.model_dump_json(by_alias=True), route.status_code, call.headers,
                   media_type="application/json")(scope, receive, send)
