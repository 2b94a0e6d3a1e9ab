"""Signing in and out, the start page, the language switch, health and readiness."""

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData

from services.portal import i18n
from services.portal.config import CALLBACK_PATH
from services.portal.oidc import Pending, SignInFailed
from services.portal.web import Page, form_of, page, portal_of, safe_next

log = logging.getLogger("services.portal")
router = APIRouter()
PageDep = Annotated[Page, Depends(page)]
FormDep = Annotated[FormData, Depends(form_of)]
SIGN_IN_SECONDS = 600  # a sign-in not completed within ten minutes starts again


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(portal_of(request).settings.signing_key(), salt="portal-sign-in")


@router.get("/")
async def start(p: PageDep) -> Response:
    if p.session is None:
        return p.render("start.html")
    return p.back("/consent")


@router.get("/auth/login")
async def login(request: Request, p: PageDep, next: str = "/") -> Response:
    """To the issuer's sign-in page; the state, nonce, PKCE verifier and the page to return
    to wait in a signed cookie that lives ten minutes."""
    portal = p.portal
    pending = await portal.oidc.begin(safe_next(next))
    response = RedirectResponse(pending.authorization_url, 303)
    portal.set_cookie(response, portal.signin_cookie, _serializer(request).dumps(pending.to_cookie()),
                      max_age=SIGN_IN_SECONDS)
    return response


@router.get(CALLBACK_PATH)
async def callback(request: Request, p: PageDep, code: str = "", state: str = "", error: str = "") -> Response:
    portal = p.portal
    raw = request.cookies.get(portal.signin_cookie)
    try:
        if error:
            raise SignInFailed(f"issuer_{error}"[:64])
        if not raw:
            raise SignInFailed("no_pending_sign_in")
        try:
            pending = Pending.from_cookie(_serializer(request).loads(raw, max_age=SIGN_IN_SECONDS))
        except BadSignature:
            raise SignInFailed("pending_sign_in_invalid") from None
        signed_in = await portal.oidc.finish(code, state, pending)
    except SignInFailed as failed:
        log.info("sign-in failed: %s", failed.reason)  # a code from a fixed vocabulary, nothing of the person
        refused = p.render("start.html", 400, message=i18n.gettext("Signing in did not work. Please try again."))
        refused.delete_cookie(portal.signin_cookie, path="/")
        return refused
    portal.sessions.end(request.cookies.get(portal.session_cookie))  # a new id at every sign-in (no fixation)
    session = portal.sessions.create(signed_in.principal, signed_in.username, signed_in.tokens)
    response = RedirectResponse(safe_next(pending.return_to), 303)
    portal.set_cookie(response, portal.session_cookie, session.session_id)
    response.delete_cookie(portal.signin_cookie, path="/")
    return response


@router.post("/auth/logout")
async def logout(request: Request, p: PageDep, form: FormDep) -> Response:
    portal = p.portal
    session = portal.sessions.end(request.cookies.get(portal.session_cookie))
    target = await portal.oidc.logout_url(session.tokens.id_token if session else None) or "/"
    response = RedirectResponse(target, 303)
    response.delete_cookie(portal.session_cookie, path="/")
    return response


@router.get("/lang/{lang}")
async def switch_language(request: Request, lang: str, next: str = "/") -> Response:
    """The page's language switch: a preference cookie for a year, then back to the page."""
    response = RedirectResponse(safe_next(next), 303)
    if lang in i18n.LOCALES:
        portal_of(request).set_cookie(response, "lang", lang, max_age=365 * 86400)
    return response


@router.get("/health")
async def health() -> Response:
    return JSONResponse({"alive": True})


@router.get("/ready")
async def ready(request: Request) -> Response:
    """Ready when the issuer's metadata is at hand and each service's API answers."""
    portal = portal_of(request)
    checks: dict[str, bool] = dict(await portal.apis.ready())
    try:
        await portal.oidc.metadata()
        checks["issuer"] = True
    except Exception:
        checks["issuer"] = False
    ok = all(checks.values())
    return JSONResponse({"ready": ok, "checks": checks}, 200 if ok else 503)
