"""An advocate's pages: my feed, sharing, my shares, my impact, the leaderboard.

Sharing is always the person's own act: a share button per network makes the tracked
link and the post (distribution's POST /api/me/shares), then the share's page opens the
network's composer. Where the composer takes no text (LinkedIn, XING, Facebook take only
the link), the page first copies the post with its disclosure to the clipboard and says
so, so the disclosure is not lost on the way. Scheduling is offered only with the
`scheduled_sharing` consent; without it the page says why it is absent.
"""

import asyncio
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from starlette.datastructures import FormData

from schemas.networks import blank
from services.portal import i18n
from services.portal.apis import Problem
from services.portal.i18n import gettext as _
from services.portal.web import Page, form_of, page

router = APIRouter()
PageDep = Annotated[Page, Depends(page)]
FormDep = Annotated[FormData, Depends(form_of)]
ID = "^[A-Za-z0-9_-]{8,64}$"
Cursor = Annotated[str | None, Query(max_length=512)]
FEED_PAGE = 20


async def valid_purposes(p: Page) -> set[str]:
    mine = await p.get("consent", "/api/me/consents")
    return {c["purpose"] for c in mine["consents"] if c.get("valid")}


@router.get("/feed")
async def my_feed(p: PageDep, cursor: Cursor = None) -> Response:
    feed, valid = await asyncio.gather(p.get("distribution", "/api/me/feed", limit=FEED_PAGE, cursor=cursor),
                                       valid_purposes(p))
    return p.render("feed.html", items=feed["items"], next_cursor=feed.get("next_cursor"),
                    receives="receive_content" in valid, may_schedule="scheduled_sharing" in valid)


@router.post("/feed/share")
async def share(p: PageDep, form: FormDep) -> Response:
    item_id, network = str(form.get("item_id", "")), str(form.get("network", ""))
    target = f"share-{item_id}-{network}"
    body: dict[str, Any] = {"item_id": item_id, "network": network}
    text, suggested = form.get("text"), form.get("suggested")
    if isinstance(text, str) and not blank(text) and text != suggested:
        body["text"] = text.replace("\r\n", "\n")
    when = form.get("scheduled_at")
    if isinstance(when, str) and when:
        try:
            body["scheduled_at"] = datetime.fromisoformat(when).replace(tzinfo=i18n.zone()).isoformat()
        except ValueError:
            p.me.flash(target, _("Please give a date and a time."))
            return p.back("/feed", target)
    made = await p.act(form, target, lambda key: p.portal.apis.post(p.caller, "distribution", "/api/me/shares",
                                                                     body, key), None)
    if made is None:
        return p.back("/feed", target)
    return p.back(f"/shares/{made['share_id']}")


@router.get("/shares")
async def my_shares(p: PageDep, cursor: Cursor = None) -> Response:
    shares = await p.get("distribution", "/api/me/shares", limit=FEED_PAGE, cursor=cursor)
    return p.render("shares.html", shares=shares["items"], next_cursor=shares.get("next_cursor"))


@router.get("/shares/{share_id}")
async def one_share(share_id: Annotated[str, Path(pattern=ID)], p: PageDep) -> Response:
    share = await p.get("distribution", f"/api/me/shares/{share_id}")
    return p.render("share.html", share=share)


@router.post("/shares/{share_id}/cancel")
async def cancel(share_id: Annotated[str, Path(pattern=ID)], p: PageDep, form: FormDep) -> Response:
    target = f"share-{share_id}"
    await p.act(form, target, lambda key: p.portal.apis.post(p.caller, "distribution",
                                                             f"/api/me/shares/{share_id}/cancel", None, key),
                _("Cancelled: it will not be posted."))
    return p.back("/shares", target)


def period(days: int = 90) -> tuple[date, date]:
    today = datetime.now(i18n.zone()).date()
    return today - timedelta(days=days - 1), today


@router.get("/impact")
async def my_impact(p: PageDep) -> Response:
    starts, ends = period()
    try:
        impact = await p.get("metrics", "/api/me/impact", **{"from": starts.isoformat(), "to": ends.isoformat()})
    except Problem as problem:
        if problem.reason != "attribution_not_consented":
            raise
        impact = None
    return p.render("impact.html", impact=impact, starts=starts, ends=ends)


@router.get("/leaderboard")
async def leaderboard(p: PageDep) -> Response:
    starts, ends = period()
    try:
        board = await p.get("metrics", "/api/me/leaderboard", **{"from": starts.isoformat(), "to": ends.isoformat()})
    except Problem as problem:
        if problem.reason != "leaderboard_not_consented":
            raise
        board = None
    return p.render("leaderboard.html", board=board, starts=starts, ends=ends)
