"""The consent centre: every purpose on its own, giving and withdrawing alike one action,
the receipt, and erasing oneself (GDPR Art. 7(3), 17, 20).

Each purpose shows its policy text and version, what it allows and what it does not, the
status and since when. Nothing is pre-selected: an unanswered purpose offers "Yes" and
"No" side by side, a given one "Withdraw" in the same style; a purpose whose policy has
a new version that asks for renewal says so and asks again, naming the new version.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from starlette.datastructures import FormData

from services.portal import texts
from services.portal.i18n import gettext as _
from services.portal.web import Page, form_of, page

router = APIRouter()
PageDep = Annotated[Page, Depends(page)]
FormDep = Annotated[FormData, Depends(form_of)]
PurposeName = Annotated[str, Path(pattern="^(" + "|".join(texts.PURPOSES) + ")$")]
Choice = Annotated[str, Path(pattern="^(give|refuse|withdraw)$")]


def standing(consent: dict[str, Any]) -> dict[str, Any]:
    """What the page shows of one purpose: the status, and which policy to show and answer."""
    current = consent.get("current_policy")
    shown = current or consent.get("policy")
    answered = consent.get("policy")
    renewal = bool(consent.get("renewal_requested")) or (
        consent.get("valid") and answered and current and answered["version"] != current["version"]
        and current.get("requires_renewal"))
    return {**consent, "shown": shown, "renewal": renewal, "texts": texts.PURPOSES[consent["purpose"]],
            "status_text": texts.STATUSES.get(consent.get("status"), texts.STATUSES[None])}


@router.get("/consent")
async def consent_centre(p: PageDep) -> Response:
    p.me  # noqa: B018 - signed in, or off to sign in
    mine = await p.get("consent", "/api/me/consents")
    return p.render("consent.html", consents=[standing(c) for c in mine["consents"]])


@router.post("/consent/{purpose}/{choice}")
async def choose(purpose: PurposeName, choice: Choice, p: PageDep, form: FormDep) -> Response:
    """Give, refuse or withdraw one purpose: one click, the same for each."""
    target = f"purpose-{purpose}"
    path = f"/api/me/consents/{purpose}/{choice}"
    if choice == "withdraw":
        body = None
    else:
        version = form.get("policy_version")
        if not isinstance(version, str) or not (version.isascii() and version.isdigit()):  # "²" is a digit
            p.me.flash(target, _("Please answer on the page, which names the policy version you read."))
            return p.back("/consent", target)
        body = {"policy_version": int(version), "collection_method": "web_form"}
    done = {"give": _("Thank you: your consent is recorded."), "refuse": _("Your answer is recorded: no."),
            "withdraw": _("Withdrawn. This takes effect at once.")}[choice]
    await p.act(form, target, lambda key: p.portal.apis.post(p.caller, "consent", path, body, key), done)
    return p.back("/consent", target)


@router.get("/consent/receipt")
async def receipt(p: PageDep, format: Annotated[str, Query(pattern="^(text|json)$")] = "text") -> Response:
    """The consent receipt (ISO/IEC TS 27560) to keep: a text file, or JSON."""
    answer = await p.portal.apis.request(p.caller, "consent", "GET", "/api/me/receipt", params={"format": format},
                                         accept="text/plain" if format == "text" else "application/json")
    extension, media = ("txt", "text/plain; charset=utf-8") if format == "text" else ("json", "application/json")
    return Response(answer.content, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="consent-receipt.{extension}"'})


@router.get("/consent/erase")
async def erase_confirmation(p: PageDep) -> Response:
    p.me  # noqa: B018
    return p.render("erase.html")


@router.post("/consent/erase")
async def erase(p: PageDep, form: FormDep) -> Response:
    """Erase me: everything about the person, in every service; then signed out."""
    me = p.me
    erased = await p.act(form, "erase", lambda key: p.portal.apis.delete(p.caller, "consent", "/api/me", key), None)
    if erased is None:
        return p.back("/consent/erase", "erase")
    p.portal.sessions.end_all_of(me.principal.advocate_id)
    p.session = None
    response = p.render("erased.html", erased_at=erased.get("erased_at"))
    response.delete_cookie(p.portal.session_cookie, path="/")
    return response
