"""A service's HTTP API: FastAPI, mounted in the service's process under `/api/`.

A service builds one `HttpApi` with its routers and hands it to `Service.mount_api`; the
service gives it the database pool when it starts. Endpoints take what they need as
dependencies:

    router = APIRouter()

    @router.post("/people/{advocate_id}/notes", status_code=201, responses=problem_responses(403, 422))
    async def take_note(advocate_id: str, body: NoteIn, me: SignedIn, db: Db) -> Note:
        return await db.command(lambda uow: notes.take(uow, actor=me.advocate_id, ...))

- `SignedIn` (`signed_in`): the `Principal` of the request's bearer token; 401 without a
  valid one, 503 when the issuer's keys cannot be had. `requires_role("editor")`: 403
  without the role.
- `Db` (`database`): `db.command(fn)` runs `fn(uow)` in one transaction with a
  `UnitOfWork` (its events go to the outbox), the same unit a Kafka handler gets; a
  `Rejected` rolls all of it back and answers a problem with the rejection's reason.
  `db.query(fn)` runs `fn(conn)` for reads.
- `Paging` (`page_request`), `Page`, `Keyset`, `paginate`: lists, newest first (paging.py).

Before the app sees a request, the API refuses (as problem documents) a declared body over
`max_body_bytes` (413) and a body that is not JSON (415); then it reads the body whole
(POST, PUT, PATCH, DELETE): one that turns out longer than declared, or is chunked, is cut
off at the limit while it streams in (413 too), one that has not all come within
`HTTP_BODY_TIMEOUT_SECONDS` of the headers is answered 408 `request_timeout`, and one
that is not JSON in UTF-8 400 `invalid_json` (`json_value`), all before a route, FastAPI's
or a fast one, sees it: both answer alike by construction. One plain ASGI layer,
`HttpApi.__call__`: FastAPI's `max_body_size` put two more around every request (the
app's and each route's), for what this layer does already.
"""

import asyncio
import hashlib
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from email.message import Message
from typing import Annotated, Any, TypeVar, get_args

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from schemas import CONTRACTS_VERSION
from schemas.commands import Rejected
from services.runtime.api import fast, problems
from services.runtime.api.fast import FastRoute
from services.runtime.api.group_commit import GroupCommit
from services.runtime.api.openapi import document_problems, problem_responses
from services.runtime.api.paging import PageRequest, page_request
from services.runtime.api.problems import HttpProblem, problem_response
from services.runtime.identity import Authenticator, InvalidToken, IssuerUnavailable, Principal
from services.runtime.retry import is_transient, retry_transient
from services.runtime.settings import ServiceSettings
from services.runtime.unit_of_work import Connection, Deferred, KeyClaim, UnitOfWork, flush

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_MAX_BODY_BYTES = 64 * 1024  # a command is a few KB at most; a curated item with 7 share texts ~30 KB
# How long a command or query retries a transient database fault before answering 503: a
# person waits on the other end (a Kafka handler retries for a minute).
RETRY_SECONDS = 2.0
RETRY_AFTER = {"Retry-After": "5"}  # seconds, on every 503 over HTTP (the redirect's too)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CLOSE = {"Connection": "close"}  # with a refusal before the body was read: the rest is not read
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


# `Idempotency-Key` (IETF httpapi-idempotency-key-header): a client's token for one
# request, which it sends again with a retry; claimed in the inbox with the command's effect.
IDEMPOTENCY_KEY = "idempotency-key"
_KEY_SHAPE = re.compile(r"[\x21-\x7e]{1,128}")  # visible ASCII, as a header value; a UUID fits


class Database:
    """The service's database for one request (the `Db` dependency)."""

    def __init__(self, pool: asyncpg.Pool, source: str, request: Request | None = None,
                 group: GroupCommit | None = None) -> None:
        self.pool = pool
        self.source = source
        self.request = request
        self.group = group

    async def command(self, fn: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run `fn(uow)` in one transaction and return its result. A `Rejected` raised in it
        undoes everything (rows and outbox) and becomes a problem with its reason; a
        transient fault is retried from the start for RETRY_SECONDS, then answers 503.

        With an `Idempotency-Key` header, the key is claimed (per signed-in person) in the
        same transaction as the command's effect, like an event id in the inbox: a retry of
        a request that was applied — the answer lost to a dropped connection, say — is not
        applied again but answered 409 `already_applied`; a refused one may be retried.

        With group commit (`HttpApi(group_commit=n)`, group_commit.py), the command runs
        in a transaction it may share with commands of other requests, keeping its own fate."""
        key = await self._key_claim()

        async def claimed(uow: UnitOfWork) -> T:
            result = await fn(uow)  # a refusal raises: nothing is claimed, a retry may try again
            if key is not None:
                assert uow.deferred is not None, "an HTTP command's writes are deferred"
                uow.deferred.claim(key)  # with the outbox rows, before commit
            return result

        if self.group is not None:
            group = self.group
            return await _unless_unavailable(lambda: group.run(claimed), retry=False)

        async def attempt() -> T:
            # The outbox rows and the key's claim in one statement before the commit, as group
            # commit writes them (ADR 0031): a round trip fewer for a command with a key.
            async with self.pool.acquire() as conn, conn.transaction():
                writes = Deferred()
                result = await claimed(UnitOfWork(conn, self.source, deferred=writes))
                if refused := await flush(conn, [writes]):
                    raise refused[0][1]  # claimed before: undone with the transaction
                return result

        return await _unless_unavailable(attempt)

    async def _key_claim(self) -> KeyClaim | None:
        """The request's key, scoped to who sent it (one person cannot spend another's key),
        with a digest of what it asks (method, path, body); 400 `invalid_idempotency_key`
        for a key that is not one, or for two `Idempotency-Key` headers (which one a proxy
        keeps, or whether it joins them by a comma, is not ours to guess). Who sent it is in
        a digest with the key, not by id: the claim stays in the inbox for
        INBOX_RETENTION_DAYS, which an erasure does not touch (ADR 0013: no row keeps an
        erased person's id)."""
        if self.request is None or not (keys := self.request.headers.getlist(IDEMPOTENCY_KEY)):
            return None
        key = keys[0]
        if len(keys) > 1 or not _KEY_SHAPE.fullmatch(key):
            raise HttpProblem(400, "invalid_idempotency_key",
                              "An Idempotency-Key is one header of 1–128 visible ASCII characters, e.g. a UUID.")
        principal = getattr(self.request.state, "principal", None)
        scoped = hashlib.sha256(f"{principal.advocate_id if principal else '-'} {key}".encode()).hexdigest()
        asked = hashlib.sha256(b"\n".join([self.request.method.encode(), self.request.url.path.encode(),
                                           await self.request.body()])).hexdigest()
        return KeyClaim(f"{self.source}/http", scoped, f"{scoped} {asked}", _already_applied(), _key_reused())

    async def query(self, fn: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `fn(conn)` on a pooled connection, for reads; transient faults as `command`."""

        async def attempt() -> T:
            async with self.pool.acquire() as conn:
                return await fn(conn)

        return await _unless_unavailable(attempt)


def _already_applied() -> HttpProblem:
    return HttpProblem(409, "already_applied", "A request with this Idempotency-Key was applied before; it is "
                       "not applied twice.")


def _key_reused() -> HttpProblem:
    # IETF httpapi-idempotency-key-header, "Error Scenarios": a key reused with another payload.
    return HttpProblem(422, "idempotency_key_reused", "This Idempotency-Key was spent on another request (method, "
                       "path or body); this one is not applied. Send a new key with each new request.")


async def _unless_unavailable(attempt: Callable[[], Awaitable[T]], retry: bool = True) -> T:
    """`attempt()`, retried through transient faults for RETRY_SECONDS (unless it retries
    itself: `retry=False`); 503 if they last."""
    try:
        return await (retry_transient(attempt, RETRY_SECONDS) if retry else attempt())
    except Exception as error:
        if is_transient(error):
            # The operator's only trace of the 503 (the class only: a message may quote values).
            log.warning("answered 503: a transient database fault lasted: %s", type(error).__name__)
            raise HttpProblem(503, "unavailable", "The database is not answering, or the request kept "
                              "conflicting with others; try again shortly.", RETRY_AFTER) from None
        raise


class HttpApi:
    """One service's HTTP API: its routers under `prefix`, problem documents for every
    error, sign-in by bearer JWT, the service's pool once it started."""

    def __init__(
        self, settings: ServiceSettings, *routers: APIRouter, authenticator: Authenticator | None = None,
        prefix: str = "/api", max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        refusals: Mapping[str, int] | None = None, version: str | None = None, description: str = "",
        group_commit: int = 0, fast_routes: Sequence[FastRoute] = (),
    ) -> None:
        self.service = settings.service
        # Commands share transactions (group_commit.py), up to this many at once; 0: each its own.
        self.group_commit = group_commit
        self.group: GroupCommit | None = None
        self.source = settings.source
        self.prefix = "/" + prefix.strip("/")
        self.max_body_bytes = max_body_bytes
        self.body_timeout = settings.http_body_timeout_seconds
        self.authenticator = authenticator or Authenticator.from_env()
        self.pool: asyncpg.Pool | None = None
        self.app = FastAPI(
            title=f"advocacy {self.service}", version=version or CONTRACTS_VERSION, description=description,
            openapi_url=f"{self.prefix}/openapi.json", docs_url=None, redoc_url=None,  # no UI fetched from a CDN
            # A trailing slash is another path (404), not a 307 to a Location built from the
            # Host header the client sent.
            redirect_slashes=False,
            # The platform configures no OpenTelemetry; FastAPI's own looked up the environment
            # for a tracer provider on every request (~2% of a command's CPU in py-spy).
            telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        )
        self.app.state.http_api = self
        # Answered without FastAPI on their happy path (fast.py); FastAPI still declares them.
        self.fast_routes = [(route.method, route.pattern(self.prefix), route) for route in fast_routes]
        problems.install(self.app, self.service, {**problems.REFUSAL_STATUS, **(refusals or {})})
        for router in routers:
            self.include(router)
        for route in fast_routes:
            _check_fast(route, routers)
        document_problems(self.app)

    def include(self, router: APIRouter) -> None:
        """Serve `router`'s routes under the API's prefix; each is documented with the
        problems any route may answer (400, 422, 500, 503; openapi.py adds 401, 408, 413, 415).
        Raises TypeError if a request body's model, or one within it, would ignore unknown
        fields instead of refusing them (`extra="forbid"`, as schemas.envelope.Contract)."""
        for route in router.routes:
            if isinstance(route, APIRoute):
                for body in route.dependant.body_params:
                    _forbid_unknown_fields(body.field_info.annotation, route.path)
        self.app.include_router(router, prefix=self.prefix, responses=problem_responses(400, 422, 500, 503))
        self.app.openapi_schema = None  # documented again with the new routes

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document (3.1), as served at `<prefix>/openapi.json`."""
        return self.app.openapi()

    async def start(self, pool: asyncpg.Pool) -> None:
        """Called by `Service.start` once the database is migrated."""
        self.pool = pool
        if self.group_commit:
            self.group = GroupCommit(pool, self.source, RETRY_SECONDS, transactions=self.group_commit)
        await self.authenticator.start()

    async def stop(self) -> None:
        self.pool = None
        if self.group is not None:
            await self.group.close()
            self.group = None
        await self.authenticator.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if refusal := self._refuse_body(headers, scope["method"]):
            await refusal(scope, receive, send)
            return
        body, value = b"", None
        if _has_body(headers) and scope["method"] in _BODY_METHODS:
            try:
                body = await self._read_body(receive)
                value = json_value(body) if body else None
            except HttpProblem as refused:
                await problem_response(refused.status_code, refused.reason, refused.detail,
                                       refused.headers)(scope, receive, send)
                return
            except _ClientGone:
                return  # nobody to answer
            receive = fast.replaying(body, receive)
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            if (route := self._fast_route(scope)) is not None \
                    and await self._serve_fast(*route, scope, receive, tracking_send, body, value):
                return
            await self.app(scope, receive, tracking_send)  # what no fast route took: FastAPI answers it all
        except Exception as error:
            # A bug. Starlette answered 500 (problems.install) unless the response had begun,
            # and raises it again for the server to log; uvicorn would log its message, which
            # may quote a value. Logged here without it, and no further.
            problems.log_unexpected(scope, error)
            if not started:
                await problem_response(500, "internal_error")(scope, receive, send)

    async def _read_body(self, receive: Receive) -> bytes:
        """The whole body, before the app sees the request, within `body_timeout` seconds of
        its headers: 408 after (a client that declared more than it sends, or trickles it,
        would hold the connection and a handler for as long as it likes; uvicorn has no such
        limit, uvicorn#157), with `Connection: close` (the rest is never read); 413 once it
        passes `max_body_bytes` (a chunked one, or one longer than declared)."""
        chunks, received = [], 0
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        raise _ClientGone
                    chunk = message.get("body", b"")
                    received += len(chunk)
                    if received > self.max_body_bytes:
                        # Not closed: the client may still be sending, and would lose the answer to the
                        # reset; the server reads the rest of it and drops it, as before.
                        raise HttpProblem(413, "body_too_large",
                                          f"A request body may have at most {self.max_body_bytes} bytes.")
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise HttpProblem(408, "request_timeout", f"The request body did not arrive within "
                              f"{self.body_timeout:g} seconds of its headers.", _CLOSE) from None

    def _fast_route(self, scope: Scope) -> tuple[FastRoute, re.Match[str]] | None:
        for method, pattern, route in self.fast_routes:
            if scope["method"] == method and (match := pattern.fullmatch(scope["path"])):
                return route, match
        return None

    async def _serve_fast(self, route: FastRoute, match: re.Match[str], scope: Scope, receive: Receive,
                          send: Send, body: bytes, value: Any) -> bool:
        """Answer `route` without FastAPI (fast.py), with the body the API read (`value`, its
        JSON); False if it declined, `receive` untouched for FastAPI to read it all again."""
        try:
            token = fast.bearer_token(scope)
            params = fast.converted(route, match)
            # Signed in before the body is validated: a refused token costs no validation here.
            principal = await self.authenticator.principal(token)
            model = fast.parsed(route, body, value)
            pool, group = self.pool, self.group  # read once, after the awaits: `stop()` clears them
            if pool is None:
                raise fast.Declined  # FastAPI answers 503 (`database`)
        except (fast.Declined, InvalidToken, IssuerUnavailable):
            return False
        scope["endpoint"] = route.handle  # for the log of a bug (problems.log_unexpected), as FastAPI sets it
        # The body is read again from `receive` for an Idempotency-Key's digest.
        request = Request(scope, receive)
        request.state.principal = principal  # as `signed_in` leaves it (Idempotency-Key)
        db = Database(pool, self.source, request, group)  # as `database` makes it
        call = fast.FastCall(params, model, principal, db)
        try:
            result = await route.handle(call)
        except (HTTPException, Rejected) as refusal:  # as FastAPI's exception handlers answer them
            handler = next(self.app.exception_handlers[kind] for kind in type(refusal).__mro__
                           if kind in self.app.exception_handlers)
            response = handler(request, refusal)  # problems.install's: each a coroutine
            await (await response if inspect.isawaitable(response) else response)(scope, receive, send)
            return True
        await fast.answer(route, call, result, scope, receive, send)
        return True

    def _refuse_body(self, headers: Headers, method: str) -> Any:
        """A problem response for a body refused on its headers alone, or None."""
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            return problem_response(413, "body_too_large",
                                    f"A request body may have at most {self.max_body_bytes} bytes.",
                                    _CLOSE)
        if not (_has_body(headers) and method in _BODY_METHODS):
            return None
        declared_types = headers.getlist("content-type")
        if len(declared_types) > 1:  # one field line only (RFC 9110 §5.3): a proxy may keep either
            return problem_response(400, "bad_request", "A request body may have one Content-Type.")
        if not _is_json(declared_types[0] if declared_types else None):
            return problem_response(415, "unsupported_media_type",
                                    "A request body must be application/json, in UTF-8.",
                                    {"Accept-Post": "application/json"} if method == "POST" else None)
        return None



def _check_fast(route: FastRoute, routers: Sequence[APIRouter]) -> None:
    """Raise TypeError unless one of `routers` declares `route` with the same path parameters,
    body model and dependencies, so that the fast route checks what the declared one does."""
    declared = [r for router in routers for r in router.routes if isinstance(r, APIRoute)
                and r.path == route.path and route.method in (r.methods or ())]
    if len(declared) != 1:
        raise TypeError(f"fast route {route.method} {route.path}: not declared in FastAPI")
    r = declared[0]
    dependant = r.dependant
    if route.body is not None:
        _forbid_unknown_fields(route.body, route.path)
    if ([field.field_info.annotation for field in dependant.body_params] != ([route.body] if route.body else [])
            or {p.name for p in dependant.path_params} != set(route.params)
            or dependant.query_params or dependant.header_params or dependant.cookie_params
            or {d.call for d in dependant.dependencies} != set(route.dependencies)):
        raise TypeError(f"fast route {route.method} {route.path}: its FastAPI route takes other parameters "
                        "or dependencies than the fast route checks")
    if (r.status_code or 200) != route.status_code:
        raise TypeError(f"fast route {route.method} {route.path}: answers {route.status_code}, "
                        f"its FastAPI route {r.status_code or 200}")
    # FastAPI's answer is the model as `fast.answer` writes it, nothing left out or renamed.
    if (r.response_model_include or r.response_model_exclude or not r.response_model_by_alias
            or r.response_model_exclude_unset or r.response_model_exclude_defaults or r.response_model_exclude_none
            or not isinstance(r.response_class, DefaultPlaceholder)):
        raise TypeError(f"fast route {route.method} {route.path}: its FastAPI route shapes its answer otherwise")


def _forbid_unknown_fields(annotation: Any, path: str) -> None:
    """A client's unknown field must be refused, not silently dropped (it may carry a name
    or an e-mail address): every model a body holds forbids extras."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation.model_config.get("extra") != "forbid":
            raise TypeError(f"{path}: request model {annotation.__name__} must set extra='forbid'")
        for field in annotation.model_fields.values():
            _forbid_unknown_fields(field.annotation, path)
    for argument in get_args(annotation):
        _forbid_unknown_fields(argument, path)


def _has_body(headers: Headers) -> bool:
    return headers.get("content-length") not in (None, "0") or "transfer-encoding" in headers


class _ClientGone(Exception):
    """The client went before its body arrived."""


def json_value(body: bytes) -> Any:
    """The value of a JSON body; 400 `invalid_json` for anything else, one answer for every
    way a body can fail: bytes that are not UTF-8 (RFC 8259 §8.1: UTF-16 and UTF-32, which
    `json.loads(bytes)` would detect and take, and a BOM, which that RFC forbids a sender to
    add), syntax, a number of more than 4,300 digits (Python's int limit, a ValueError), nesting
    deeper than the interpreter recurses (RecursionError), NaN and Infinity (which Python's
    parser takes and RFC 8259 §6 does not allow), an object naming a member twice (I-JSON),
    and a string with an unpaired
    surrogate escape such as "\\udc80" (RFC 7493 §2.1, I-JSON: pydantic takes it, then it
    cannot be encoded as UTF-8 for Postgres or Kafka)."""
    try:
        # Strict: no BOM, no surrogates encoded in the bytes, no NaN or Infinity (Python's extension).
        value = json.loads(body.decode("utf-8"), parse_constant=_not_json, object_pairs_hook=_unique_names)
        if _SURROGATE_ESCAPE.search(body):  # rare: check the strings it made encode (pairs do)
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        return value
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeError and the int limit are ValueErrors
        raise HttpProblem(400, "invalid_json", "The body is not valid JSON (UTF-8, RFC 8259).") from None


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON (RFC 8259 §6)")


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose names are unique (RFC 7493 §2.3, I-JSON: with a name twice, which value
    counts is left to each parser; Python's takes the last)."""
    value = dict(pairs)
    if len(value) != len(pairs):
        raise ValueError("a name appears twice in an object")
    return value


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    if message.get_content_maintype() != "application" or not (subtype == "json" or (
            subtype.endswith("+json") and len(subtype) > len("+json"))):
        return False
    # JSON exchanged between systems is UTF-8 (RFC 8259 §8.1); a body declared in another
    # charset, or in two (which one counts is anyone's guess), would be read as what it is not.
    # The value as declared: `get_content_charset()` answers None for one it cannot read as
    # ASCII (`charset=é`), which would pass for no charset at all; `charset*=` (RFC 2231)
    # gives a tuple, and is no charset a JSON client sends.
    charsets = [value for name, value in (message.get_params() or [])[1:] if name.lower() == "charset"]
    return not charsets or (len(charsets) == 1 and isinstance(charsets[0], str)
                            and charsets[0].lower() in ("utf-8", "utf8", "us-ascii"))


def _api(request: Request) -> HttpApi:
    api: HttpApi = request.app.state.http_api
    return api


_bearer = HTTPBearer(auto_error=False, bearerFormat="JWT", description="An access token of the platform's OIDC issuer")


async def signed_in(request: Request,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    """The `Principal` of the request's bearer token. 401 (`WWW-Authenticate: Bearer`,
    RFC 6750 §3) when it is missing or refused, with no word on why; 503 when the
    issuer's keys cannot be had. The reason is logged at DEBUG, the token never."""
    if credentials is None:
        raise HttpProblem(401, "unauthenticated", "Sign in: send a bearer token.", {"WWW-Authenticate": "Bearer"})
    try:
        principal = await _api(request).authenticator.principal(credentials.credentials)
        request.state.principal = principal  # for what the request does on their behalf (Idempotency-Key)
        return principal
    except InvalidToken as refused:
        log.debug("bearer token refused: %s", refused.reason)
        raise HttpProblem(401, "unauthenticated", "Sign in: the bearer token is not valid.",
                          {"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    except IssuerUnavailable as unavailable:
        log.debug("sign-in unavailable: %s", unavailable.reason)  # identity.py warns, once per fetch
        raise HttpProblem(503, "identity_unavailable", "Sign-in is unavailable; try again shortly.",
                          RETRY_AFTER) from None


SignedIn = Annotated[Principal, Depends(signed_in)]


def requires_role(*roles: str) -> Any:
    """A dependency yielding the signed-in `Principal` if it has one of `roles`; 403
    otherwise. Use as `me: Annotated[Principal, requires_role("editor")]`."""
    wanted = frozenset(roles)

    async def with_role(principal: SignedIn) -> Principal:
        if not wanted & principal.roles:
            raise HttpProblem(403, "not_permitted", f"This needs the role {' or '.join(sorted(wanted))}.")
        return principal

    return Depends(with_role)


async def database(request: Request) -> Database:
    """The `Db` dependency; 503 until the service has started (or after it stopped).
    Async, as every dependency here: FastAPI runs a plain `def` one in a worker thread,
    which cost the event loop more than the dependency's work (py-spy, ~10% of a share)."""
    api = _api(request)
    if api.pool is None:
        raise HttpProblem(503, "unavailable", "The service is starting or stopping.", RETRY_AFTER)
    return Database(api.pool, api.source, request, api.group)


Db = Annotated[Database, Depends(database)]
Paging = Annotated[PageRequest, Depends(page_request)]
