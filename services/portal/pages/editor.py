"""The communications team's pages: items (drafts and the rest), the review queue with four
eyes visible, a preview per network with the counted length, campaigns, feed sources.

The services decide who may do what (curation's roles and four eyes); these pages show
it: who drafted, edited and submitted an item, who may not approve it, and why the page
offers you no approval where you may not give one.
"""

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from starlette.datastructures import FormData

from schemas.networks import LIMITS, compose, tracked_link, weighted_length
from services.portal.i18n import gettext as _
from services.portal.texts import NETWORKS
from services.portal.web import Page, form_of, page

router = APIRouter(prefix="/editor")
PageDep = Annotated[Page, Depends(page)]
FormDep = Annotated[FormData, Depends(form_of)]
Id = Annotated[str, Path(pattern="^[A-Za-z0-9_-]{8,64}$")]
Cursor = Annotated[str | None, Query(max_length=512)]
ItemAction = Annotated[str, Path(pattern="^(submit|approve|send-back|publish|retract)$")]
SourceAction = Annotated[str, Path(pattern="^(pause|resume|remove)$")]
LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pl")


def previews(content: dict[str, Any], public_base_url: str) -> list[dict[str, Any]]:
    """Each suggested text as it would be posted (text, disclosure, a tracked link as long as
    distribution's) and its length as the network counts it (schemas/networks.py, the
    services' own count)."""
    link = tracked_link(public_base_url)
    shown = []
    for network, text in (content.get("share_texts") or {}).items():
        post = compose(text, content.get("disclosure"), link)
        length, limit = weighted_length(network, post), LIMITS[network].max_chars
        shown.append({"network": network, "post": post, "length": length, "max_length": limit,
                      "fits": length <= limit})
    return shown


def _labels(raw: Any) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n]", raw if isinstance(raw, str) else "") if part.strip()]


def content_of(form: FormData) -> dict[str, Any]:
    """An item's content from the draft form (curation's ItemContent)."""
    texts = {network: str(form.get(f"text_{network}", "")).replace("\r\n", "\n").strip() for network in NETWORKS}
    content: dict[str, Any] = {
        "title": str(form.get("title", "")).strip(), "summary": str(form.get("summary", "")).strip(),
        "source_url": str(form.get("source_url", "")).strip(), "language": str(form.get("language", "en")),
        "topics": _labels(form.get("topics")), "editable": form.get("editable") == "yes",
        "share_texts": {network: text for network, text in texts.items() if text},
    }
    disclosure = str(form.get("disclosure", "")).strip()
    content["disclosure"] = disclosure or None
    campaign = str(form.get("campaign_id", ""))
    if campaign:
        content["campaign_id"] = campaign
    return content


@router.get("/items")
async def items(p: PageDep, status: Annotated[str | None, Query(pattern="^[a-z_]{1,20}$")] = None,
                cursor: Cursor = None) -> Response:
    listed = await p.get("curation", "/api/items", status=status, cursor=cursor, limit=50)
    return p.render("editor/items.html", items=listed["items"], next_cursor=listed.get("next_cursor"), status=status)


@router.get("/items/new")
async def new_item(p: PageDep) -> Response:
    campaigns = await p.get("curation", "/api/campaigns", limit=100)
    return p.render("editor/new_item.html", campaigns=campaigns["items"], languages=LANGUAGES)


@router.post("/items")
async def draft(p: PageDep, form: FormDep) -> Response:
    body = {"content": content_of(form)}
    made = await p.act(form, "draft", lambda key: p.portal.apis.post(p.caller, "curation", "/api/items", body, key),
                       _("Drafted."))
    if made is None:
        return p.back("/editor/items/new", "draft")
    return p.back(f"/editor/items/{made['item_id']}")


@router.get("/items/{item_id}")
async def item(item_id: Id, p: PageDep) -> Response:
    shown = await p.get("curation", f"/api/items/{item_id}")
    base = p.portal.settings.public_base_url
    revised = previews({**shown["content"], **shown["revision"]["proposed"]}, base) if shown.get("revision") else []
    return p.render("editor/item.html", item=shown, previews=previews(shown["content"], base),
                    revision_previews=revised)


@router.post("/items/{item_id}/{action}")
async def item_action(item_id: Id, action: ItemAction, p: PageDep, form: FormDep) -> Response:
    body: dict[str, Any] | None = None
    if action == "approve":
        version = str(form.get("version", ""))
        body = {"version": int(version) if version.isascii() and version.isdigit() else 0}
    elif action == "send-back":
        body = {"note": str(form.get("note", "")).strip()}
    elif action == "retract":
        body = {"reason": str(form.get("reason", "")).strip()}
    done = {"submit": _("Submitted for review."), "approve": _("Approved."), "send-back": _("Sent back."),
            "publish": _("Published (or scheduled, if it has a publication time)."), "retract": _("Retracted.")}
    await p.act(form, "actions", lambda key: p.portal.apis.post(p.caller, "curation",
                                                               f"/api/items/{item_id}/{action}", body, key),
                done[action])
    return p.back(f"/editor/items/{item_id}", "actions")


@router.get("/review")
async def review_queue(p: PageDep, cursor: Cursor = None) -> Response:
    queue = await p.get("curation", "/api/review-queue", cursor=cursor, limit=50)
    return p.render("editor/review.html", entries=queue["items"], next_cursor=queue.get("next_cursor"))


@router.get("/campaigns")
async def campaigns(p: PageDep, cursor: Cursor = None) -> Response:
    listed = await p.get("curation", "/api/campaigns", cursor=cursor, limit=50)
    return p.render("editor/campaigns.html", campaigns=listed["items"], next_cursor=listed.get("next_cursor"),
                    today=date.today())


@router.post("/campaigns")
async def create_campaign(p: PageDep, form: FormDep) -> Response:
    body = {"name": str(form.get("name", "")).strip(), "goal": str(form.get("goal", "")).strip(),
            "starts_on": str(form.get("starts_on", "")), "ends_on": str(form.get("ends_on", "")),
            "topics": _labels(form.get("topics"))}
    await p.act(form, "new-campaign", lambda key: p.portal.apis.post(p.caller, "curation", "/api/campaigns", body, key),
                _("Campaign created."))
    return p.back("/editor/campaigns", "new-campaign")


@router.get("/sources")
async def sources(p: PageDep, cursor: Cursor = None) -> Response:
    listed = await p.get("curation", "/api/sources", cursor=cursor, limit=50)
    return p.render("editor/sources.html", sources=listed["items"], next_cursor=listed.get("next_cursor"),
                    languages=LANGUAGES)


@router.post("/sources")
async def register_source(p: PageDep, form: FormDep) -> Response:
    body = {"url": str(form.get("url", "")).strip(), "language": str(form.get("language", "en")),
            "topics": _labels(form.get("topics"))}
    await p.act(form, "new-source", lambda key: p.portal.apis.post(p.caller, "curation", "/api/sources", body, key),
                _("Feed source registered: it is polled from now on."))
    return p.back("/editor/sources", "new-source")


@router.post("/sources/{source_id}/{action}")
async def source_action(source_id: Id, action: SourceAction, p: PageDep, form: FormDep) -> Response:
    target = f"source-{source_id}"
    if action == "remove":
        await p.act(form, target, lambda key: p.portal.apis.delete(p.caller, "curation", f"/api/sources/{source_id}",
                                                                   key), _("Removed."))
    else:
        await p.act(form, target, lambda key: p.portal.apis.post(p.caller, "curation",
                                                                 f"/api/sources/{source_id}/{action}", None, key),
                    _("Paused.") if action == "pause" else _("Resumed."))
    return p.back("/editor/sources", target)
