"""The portal's web layer: the app, who is signed in, CSRF, rendering, and errors.

Every page is rendered on the server (Jinja2). A page that needs a person redirects to
sign-in and back (`/auth/login?next=<the page>`); a form is a POST with the session's
CSRF token and a one-time idempotency key, answered with a redirect (POST/redirect/GET)
back to the page, where a one-time message appears next to what caused it. The services'
refusals become sentences in the page's language (texts.py).
"""

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.portal import i18n, texts
from services.portal.apis import Apis, Problem, Unavailable
from services.portal.config import PortalSettings
from services.portal.oidc import Oidc, SignInRequired
from services.portal.sessions import Session, SessionStore
from services.runtime.identity import IssuerUnavailable

log = logging.getLogger("services.portal")

HERE = Path(__file__).parent
MAX_FORM_BYTES = 96 * 1024  # an item with seven suggested texts is ~30 KB


class NeedsSignIn(Exception):
    """No live session: sign in, then come back to `next`."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign-in needed")
        self.next_path = next_path


class Forbidden(Exception):
    """A form without this session's CSRF token, or from another origin."""


@dataclass
class Portal:
    """What the routes share: settings, sessions, the issuer, the services, templates."""

    settings: PortalSettings
    sessions: SessionStore
    oidc: Oidc
    apis: Apis
    templates: Environment
    zone: ZoneInfo

    @property
    def session_cookie(self) -> str:
        # `__Host-`: the browser keeps it only if Secure, Path=/ and host-only (RFC 6265bis §4.1.3.2).
        return "__Host-portal_session" if self.settings.secure_cookies else "portal_session"

    @property
    def signin_cookie(self) -> str:
        return "__Host-portal_signin" if self.settings.secure_cookies else "portal_signin"

    def set_cookie(self, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                            secure=self.settings.secure_cookies)


def portal_of(request: Request) -> Portal:
    return request.app.state.portal  # type: ignore[no-any-return]


class SessionCaller:
    """The person's access token for the services, renewed with the refresh token before
    it expires (and once when a service answers 401); one renewal at a time per session."""

    def __init__(self, portal: Portal, session: Session) -> None:
        self.portal, self.session = portal, session

    async def access_token(self, renew: bool = False) -> str:
        session = self.session
        if renew or session.tokens.expiring(time.time()):
            async with session.lock:
                if renew or session.tokens.expiring(time.time()):
                    try:
                        session.tokens, session.principal = await self.portal.oidc.refresh(session.tokens)
                    except SignInRequired:
                        self.portal.sessions.end(session.session_id)
                        raise
        return session.tokens.access_token


class Page:
    """One request to a page: who asks, in which language, and how to answer."""

    def __init__(self, request: Request, portal: Portal, session: Session | None) -> None:
        self.request, self.portal, self.session = request, portal, session
        self.lang = i18n.negotiate(request.cookies.get("lang"), request.headers.get("accept-language"))
        i18n.use(self.lang, portal.zone)

    # --- who --------------------------------------------------------------------------------
    @property
    def me(self) -> Session:
        if self.session is None:
            raise NeedsSignIn(self.here)
        return self.session

    def has_role(self, *roles: str) -> bool:
        return self.session is not None and any(self.session.principal.has_role(r) for r in roles)

    @property
    def caller(self) -> SessionCaller:
        return SessionCaller(self.portal, self.me)

    @property
    def here(self) -> str:
        query = self.request.url.query
        return self.request.url.path + (f"?{query}" if query else "")

    # --- the services -----------------------------------------------------------------------
    async def get(self, service: str, path: str, **params: Any) -> Any:
        return await self.portal.apis.get(self.caller, service, path, **params)

    async def act(self, form: FormData, target: str, call: Callable[[str | None], Awaitable[Any]],
                  done: str | None) -> Any:
        """Run a command for a form: `call(idempotency_key)`. A refusal becomes a message next to
        `target`; success, the message `done` (if any). Returns the command's answer, or None."""
        key = form.get("idem")
        try:
            answer = await call(key if isinstance(key, str) and key else None)
        except Problem as problem:
            if problem.reason == "already_applied":
                self.me.flash(target, texts.problem_sentence(problem), "ok")
            else:
                self.me.flash(target, texts.problem_sentence(problem))
            return None
        if done:
            self.me.flash(target, done, "ok")
        return answer

    # --- answers ----------------------------------------------------------------------------
    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        session = self.session
        flashes: dict[str, list[Any]] = {}
        if session is not None:
            for flash in session.take_flashes():
                flashes.setdefault(flash.target, []).append(flash)
        html = self.portal.templates.get_template(template).render(
            page=self, me=session, lang=self.lang, csrf=session.csrf_token if session else "",
            flashes=flashes, path=self.request.url.path, here=self.here, nav=self.nav(),
            new_key=lambda: secrets.token_urlsafe(16), texts=texts, settings=self.portal.settings, **context)
        return HTMLResponse(html, status_code)

    def back(self, path: str, anchor: str = "") -> RedirectResponse:
        return RedirectResponse(path + (f"#{anchor}" if anchor else ""), 303)

    def nav(self) -> list[tuple[str, str]]:
        _ = i18n.gettext
        if self.session is None:
            return []
        links = [("/consent", _("Consent")), ("/feed", _("My feed")), ("/shares", _("My shares")),
                 ("/impact", _("My impact")), ("/leaderboard", _("Leaderboard"))]
        if self.has_role("editor", "approver"):
            links.append(("/editor/items", _("Items")))
        if self.has_role("approver"):
            links.append(("/editor/review", _("Review queue")))
        if self.has_role("editor", "approver"):
            links.append(("/editor/campaigns", _("Campaigns")))
        if self.has_role("editor"):
            links.append(("/editor/sources", _("Feed sources")))
        if self.has_role("analyst"):
            links.append(("/reports", _("Reports")))
        return links


async def page(request: Request) -> Page:
    """The `Page` dependency: a live session if the cookie names one."""
    portal = portal_of(request)
    return Page(request, portal, portal.sessions.get(request.cookies.get(portal.session_cookie)))


async def form_of(request: Request) -> FormData:
    """A page's form, checked: from this origin, with this session's CSRF token. Without a
    live session the person signs in and comes back to the page the form was on."""
    portal = portal_of(request)
    origin = request.headers.get("origin")
    if origin is not None and origin != portal.settings.public_url:
        raise Forbidden()
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
        raise Forbidden()
    session = portal.sessions.get(request.cookies.get(portal.session_cookie))
    if session is None:
        raise NeedsSignIn(_referring_page(request, portal))
    form = await request.form(max_files=0, max_fields=200, max_part_size=MAX_FORM_BYTES)
    sent = form.get("csrf")
    if not session.csrf_matches(sent if isinstance(sent, str) else None):
        raise Forbidden()
    return form


def _referring_page(request: Request, portal: Portal) -> str:
    referer = urlsplit(request.headers.get("referer", ""))
    if f"{referer.scheme}://{referer.netloc}" == portal.settings.public_url and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"


def safe_next(value: str | None) -> str:
    """A path on this portal to return to after sign-in; anything else (another host,
    `//evil`, a backslash trick) becomes the start page: no open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return "/"
    return value


def install_errors(app: FastAPI) -> None:
    async def needs_sign_in(request: Request, error: NeedsSignIn) -> Response:
        return RedirectResponse(f"/auth/login?next={quote(safe_next(error.next_path), safe='')}", 303)

    async def forbidden(request: Request, error: Forbidden) -> Response:
        p = await page(request)
        return p.render("error.html", 403, message=i18n.gettext(
            "This form could not be accepted: it was sent from another page or an old tab. Please reload the "
            "page and try again."))

    async def problem(request: Request, error: Problem) -> Response:
        p = await page(request)
        return p.render("error.html", error.status if 400 <= error.status < 500 else 502,
                        message=texts.problem_sentence(error))

    async def unavailable(request: Request, error: Unavailable) -> Response:
        p = await page(request)
        return p.render("error.html", 503, message=texts.unavailable_sentence(error))

    async def issuer_unavailable(request: Request, error: IssuerUnavailable) -> Response:
        p = await page(request)
        return p.render("error.html", 503, message=i18n.gettext(
            "Signing in is not possible right now: the identity provider does not answer."))

    async def sign_in_required(request: Request, error: SignInRequired) -> Response:
        path = request.url.path if request.method == "GET" else _referring_page(request, portal_of(request))
        query = request.url.query if request.method == "GET" else ""
        return await needs_sign_in(request, NeedsSignIn(path + (f"?{query}" if query else "")))

    async def unexpected(request: Request, error: Exception) -> Response:
        # A bug: logged by its type and place only (its message may quote a value).
        log.error("unexpected %s in %s %s", type(error).__name__, request.method, request.url.path)
        p = await page(request)
        return p.render("error.html", 500, message=i18n.gettext(
            "Something went wrong on our side. Please try again; if it happens again, tell the team."))

    app.add_exception_handler(Exception, unexpected)
    app.add_exception_handler(NeedsSignIn, needs_sign_in)  # type: ignore[arg-type]
    app.add_exception_handler(Forbidden, forbidden)  # type: ignore[arg-type]
    app.add_exception_handler(Problem, problem)  # type: ignore[arg-type]
    app.add_exception_handler(Unavailable, unavailable)  # type: ignore[arg-type]
    app.add_exception_handler(IssuerUnavailable, issuer_unavailable)  # type: ignore[arg-type]
    app.add_exception_handler(SignInRequired, sign_in_required)  # type: ignore[arg-type]


class SecurityHeaders:
    """Pure ASGI middleware (no per-request task, unlike Starlette's BaseHTTPMiddleware): the
    headers every answer carries, and `Server-Timing: app;dur=<ms>` for the benchmark."""

    def __init__(self, app: ASGIApp, portal: Portal) -> None:
        self.app = app
        issuer = urlsplit(portal.settings.oidc_issuer)
        # Only our own script and style, no third party at all (no CDN, no tracker); forms post
        # to us, whose sign-out redirects to the issuer (Chromium applies form-action to redirects).
        policy = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                  f"form-action 'self' {issuer.scheme}://{issuer.netloc}; frame-ancestors 'none'; base-uri 'none'; "
                  "object-src 'none'")
        self.common = [(b"content-security-policy", policy.encode()), (b"x-content-type-options", b"nosniff"),
                       (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        private = not scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"cache-control" or not private]
                headers += self.common
                if private:
                    headers.append((b"cache-control", b"no-store"))  # pages hold a person's data
                headers.append((b"server-timing", f"app;dur={(time.perf_counter() - started) * 1000:.1f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(datetime=i18n.format_datetime, date=i18n.format_date, number=i18n.format_number,
                       percent=i18n.format_percent, currency=i18n.format_currency)
    env.globals.update(N=texts.NETWORKS)
    return env


def build_app(settings: PortalSettings, oidc: Oidc | None = None, apis: Apis | None = None) -> FastAPI:
    from services.portal.pages import auth, consent, editor, feed, reports

    portal = Portal(settings, SessionStore(settings.portal_session_idle_minutes * 60,
                                           settings.portal_session_max_hours * 3600, settings.portal_max_sessions),
                    oidc or Oidc(settings), apis or Apis(settings), templates(), ZoneInfo(settings.portal_timezone))

    async def lifespan(app: FastAPI) -> Any:
        start = asyncio.create_task(_warm(portal))
        yield
        start.cancel()
        await portal.oidc.aclose()
        await portal.apis.aclose()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.portal = portal
    app.add_middleware(SecurityHeaders, portal=portal)
    install_errors(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (auth, consent, feed, editor, reports):
        app.include_router(module.router)
    return app


async def _warm(portal: Portal) -> None:
    """Fetch the issuer's metadata and keys early; a failure is retried at the first sign-in."""
    try:
        await portal.oidc.metadata()
        await portal.oidc.access.keys.refresh()
    except IssuerUnavailable as error:
        log.warning("the issuer's metadata or keys were not fetched at start (%s)", error.reason)
