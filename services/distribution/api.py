"""Distribution's HTTP API: the signed-in person's feed and shares, under `/api/me/`.

| method, path | what |
|---|---|
| GET `/api/me/feed` | the items in their feed, newest first, each with its suggested post per network |
| POST `/api/me/shares` | share an item now (a tracked link and the network's share intent) or schedule it |
| GET `/api/me/shares` | their shares, newest first, with their status |
| GET `/api/me/shares/{share_id}` | one of their shares |
| POST `/api/me/shares/{share_id}/cancel` | call off a scheduled share |

The person is who signed in: the token's advocate id, never a path or body field, so nobody
reaches another person's feed or shares, nor learns whether that person exists; another
person's share is answered as an unknown one (`unknown_share`). The commands are the ones
Kafka carries (`RequestShare`, `CancelShare`), built here with the signed-in person as actor
and subject and handled by the same handler methods, in one transaction with the outbox,
which requests arriving together share (group commit, ADR 0046), each keeping its own fate;
on Kafka they are refused (`sign_in_required`, app.py). ADR 0014 says why.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from schemas.commands import Rejected
from schemas.directory import AdvocateId, Network
from schemas.distribution import (
    CancelShare,
    ItemId,
    Reason,
    RequestShare,
    ShareCancellation,
    ShareRequest,
)
from schemas.envelope import Timestamp
from schemas.networks import LIMITS
from services.distribution import domain, links, share_store, store
from services.distribution.config import DistributionSettings
from services.distribution.domain import ShareStatus, SuggestedPost
from services.distribution.handlers import DistributionHandlers
from services.distribution.share_store import AdvocateShare
from services.distribution.store import FeedEntry
from services.runtime.api import (
    Database,
    Db,
    HttpApi,
    Keyset,
    Page,
    PageRequest,
    Paging,
    Principal,
    SignedIn,
    database,
    paginate,
    problem_responses,
    signed_in,
)
from services.runtime.api.fast import FastCall, FastRoute
from services.runtime.identity import Authenticator, OidcSettings
from services.runtime.unit_of_work import UnitOfWork

FEED = Keyset(datetime, str)  # ORDER BY delivered_at DESC, item_id DESC
SHARES = Keyset(datetime, str)  # ORDER BY created_at DESC, share_id DESC
ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"  # item ids (schemas.distribution.ItemId) and share ids alike
ShareIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="The share's id")]
_ADVOCATE_ID = TypeAdapter(AdvocateId)
# The state a cancellation meets forbids it (RFC 9110 §15.5.10), rather than a rule of the request.
REFUSALS = {Reason.SHARE_NOT_SCHEDULED.value: 409}

DESCRIPTION = """The signed-in person's feed and shares. Every path is under `/api/me/`: the
person is who the bearer token names, never a field of the request. Refusals are RFC 9457
problem documents whose `reason` is the one the Kafka rejection event would carry."""


# --- requests and answers ------------------------------------------------------------------

class ShareIn(BaseModel):
    """Share an item of your feed on a network: now, or at `scheduled_at`."""

    model_config = ConfigDict(extra="forbid")

    item_id: ItemId
    network: Network
    text: str | None = Field(default=None, max_length=70000,
                             description="Your own text instead of the suggested one, if the item allows editing")
    scheduled_at: Timestamp | None = Field(
        default=None, description="A connector posts it then (needs your scheduled_sharing consent); "
        "none: you post it yourself, through the share intent")


class SuggestedPostOut(BaseModel):
    network: Network
    text: str = Field(description="The suggested text: the item's text for this network, else its title")
    post: str = Field(description="Text, disclosure and tracked link, one per line, as it would go out; the link "
                      "here is a stand-in as long as the real one, which POST /api/me/shares makes")
    length: int = Field(description="`post`'s length as the network counts it (X: twitter-text's weighted length)")
    max_length: int = Field(description="The network's limit")
    counting: str = Field(description="How the network counts")
    fits: bool = Field(description="length ≤ max_length")
    share_intent: bool = Field(description="Whether the network has a web composer a share's "
                               "`share_intent_url` opens (Instagram and Mastodon do not)")
    intent_carries_text: bool = Field(
        description="Whether that composer is handed the post's text (X, Bluesky); where it is not (LinkedIn, "
        "Xing, Facebook: the link only), the app must let the person copy the text and the disclosure line")

    @classmethod
    def of(cls, suggested: SuggestedPost) -> "SuggestedPostOut":
        return cls(network=suggested.network, text=suggested.text, post=suggested.post, length=suggested.length,
                   max_length=suggested.max_length, fits=suggested.fits, **_NETWORK_FACTS[suggested.network])


_CREATED = {"description": "The share", "headers": {"Location": {
    "description": "The share's own path, /api/me/shares/{share_id}", "schema": {"type": "string"}}}}

# What a feed says of each network besides the post: the same for every entry, worked out once.
_NETWORK_FACTS = {network: {"counting": LIMITS[network].counting.value,
                            "share_intent": links.has_share_intent(network),
                            "intent_carries_text": links.intent_carries_text(network)} for network in Network}


class _SuggestedPosts:
    """An item's suggested posts as the feed shows them, made once per version of the item and
    choice of networks: they are the same in every feed that holds the item, and making them
    (50 items × 7 networks a page) was half of a feed page's CPU. Bounded: emptied when full."""

    SIZE = 4096

    def __init__(self) -> None:
        self._made: dict[tuple[str, datetime, tuple[Network, ...]], list[SuggestedPostOut]] = {}

    def posts(self, entry: FeedEntry, networks: list[Network], link: str) -> list[SuggestedPostOut]:
        """`link` is the same on every call (the service's stand-in link)."""
        key = (entry.item.item_id, entry.version, tuple(networks))
        made = self._made.get(key)
        if made is None:
            if len(self._made) >= self.SIZE:
                self._made.clear()
            made = self._made[key] = [SuggestedPostOut.of(p) for p in
                                      domain.suggested_posts(entry.item, networks, link, entry.lengths)]
        return made


class FeedItem(BaseModel):
    item_id: str
    title: str
    summary: str
    source_url: str
    image_url: str | None
    campaign_id: str | None
    language: str
    disclosure: str | None = Field(description="The line every post of it must carry, if any")
    editable: bool = Field(description="Whether you may share it with your own text")
    delivered_at: datetime = Field(description="When it reached your feed")
    posts: list[SuggestedPostOut] = Field(description="Per network you named in the directory (all if none)")


class ShareOut(BaseModel):
    share_id: str
    item_id: str
    campaign_id: str | None
    network: Network
    post: str = Field(description="Text, disclosure and tracked link, as posted")
    tracked_url: str = Field(description="The link in the post: it redirects to the item and counts clicks")
    share_intent_url: str | None = Field(description="Opens the network's composer; null where it has none")
    intent_carries_text: bool = Field(description="Whether the composer is handed `post`; if not, the app must "
                                      "let the person copy it (LinkedIn, Xing, Facebook take only the link)")
    status: ShareStatus = Field(description="created (you post it), scheduled, publish_requested, published, "
                                "failed (as a connector reported), cancelled")
    scheduled_at: datetime | None
    created_at: datetime


# --- the routes ----------------------------------------------------------------------------

def build_api(handlers: DistributionHandlers, settings: DistributionSettings, identity: OidcSettings) -> HttpApi:
    """The API over `handlers` (the same ones the Kafka subscribers call), trusting `identity`."""
    router = APIRouter(prefix="/me")
    source = f"{settings.source}/api"
    suggested = _SuggestedPosts()

    def share_out(share: AdvocateShare) -> ShareOut:
        tracked_url = links.tracked_url(settings.public_base_url, share.code)
        return ShareOut(share_id=share.share_id, item_id=share.item_id, campaign_id=share.campaign_id,
                        network=share.network, post=share.post, tracked_url=tracked_url,
                        share_intent_url=links.share_intent_url(share.network, tracked_url, share.post),
                        intent_carries_text=links.intent_carries_text(share.network), status=share.status,
                        scheduled_at=share.scheduled_at, created_at=share.created_at)

    @router.get("/feed")
    async def my_feed(me: SignedIn, db: Db, page: Paging) -> Page[FeedItem]:
        """The items in your feed, newest first, each with its suggested post per network."""
        after, link = _position(page, FEED), handlers.stand_in_link
        named, entries = await db.query(lambda conn: store.feed_page(conn, me.advocate_id, after, page.limit + 1, link))
        networks = domain.feed_networks(named)

        def feed_item(entry: FeedEntry) -> FeedItem:
            item = entry.item
            return FeedItem(item_id=item.item_id, title=item.title, summary=item.summary, source_url=item.source_url,
                            image_url=item.image_url, campaign_id=item.campaign_id, language=item.language,
                            disclosure=item.disclosure, editable=item.editable, delivered_at=entry.delivered_at,
                            posts=suggested.posts(entry, networks, link))

        return paginate(entries, page, FEED, lambda entry: (entry.delivered_at, entry.item.item_id), feed_item)

    async def create_share(body: ShareIn, me: Principal, db: Database) -> tuple[ShareOut, str]:
        """The share made, and its `Location`."""
        advocate = _advocate_id(me.advocate_id, Reason.ITEM_NOT_IN_FEED)
        command = RequestShare(source=source, subject=advocate, data=ShareRequest(
            actor=advocate, advocate_id=advocate, **body.model_dump(exclude_none=True)))
        made = await db.command(lambda uow: handlers.share(uow, command))
        return share_out(made), f"/api/me/shares/{made.share_id}"

    @router.post("/shares", status_code=201, responses={**problem_responses(403, 404, 409, 422), 201: _CREATED})
    async def share(body: ShareIn, me: SignedIn, db: Db, response: Response) -> ShareOut:
        """Share an item of your feed: a tracked link, the post and the network's share intent
        now; or, with `scheduled_at`, a connector posts it then."""
        made, location = await create_share(body, me, db)
        response.headers["Location"] = location
        return made

    async def fast_share(call: FastCall) -> ShareOut:
        assert isinstance(call.body, ShareIn)
        made, location = await create_share(call.body, call.principal, call.db)
        call.headers["Location"] = location
        return made

    @router.get("/shares")
    async def my_shares(me: SignedIn, db: Db, page: Paging) -> Page[ShareOut]:
        """Your shares, newest first, with their status."""
        after = _position(page, SHARES)
        rows = await db.query(lambda conn: share_store.shares_page(conn, me.advocate_id, after, page.limit + 1))
        return paginate(rows, page, SHARES, lambda row: (row.created_at, row.share_id), share_out)

    @router.get("/shares/{share_id}", responses=problem_responses(404))
    async def my_share(share_id: ShareIdPath, me: SignedIn, db: Db) -> ShareOut:
        """One of your shares; `unknown_share` for any other id, another person's share's too."""
        return share_out(_found(await db.query(lambda conn: share_store.share_of(conn, me.advocate_id, share_id))))

    @router.post("/shares/{share_id}/cancel", responses=problem_responses(404, 409))
    async def cancel(share_id: ShareIdPath, me: SignedIn, db: Db) -> ShareOut:
        """Call off your scheduled share before it is posted; `share_not_scheduled` once it is
        not scheduled any more, `unknown_share` for any id not of your shares."""
        advocate = _advocate_id(me.advocate_id, Reason.UNKNOWN_SHARE)
        command = CancelShare(source=source, subject=advocate, data=ShareCancellation(
            actor=advocate, advocate_id=advocate, share_id=share_id))

        async def call_off(uow: UnitOfWork) -> AdvocateShare | None:
            await handlers.cancel_share(uow, command)
            return await share_store.share_of(uow.conn, advocate, share_id)

        return share_out(_found(await db.command(call_off)))

    # The busiest command, answered without FastAPI's machinery on its happy path (ADR 0031):
    # the same endpoint, its route still declared above. Share requests arriving together share
    # one transaction, one commit and one outbox write (group commit, ADR 0046); up to four such
    # transactions at once, so that one waiting for a person's consents holds up only its own.
    fast = FastRoute("/me/shares", fast_share, {}, ShareIn, status_code=201, dependencies=(signed_in, database))
    return HttpApi(settings, router, authenticator=Authenticator(identity), refusals=REFUSALS,
                   description=DESCRIPTION, fast_routes=[fast], group_commit=4)


def _position(page: PageRequest, keyset: Keyset) -> tuple[datetime, str] | None:
    """Where a page continues (None: at the newest); the kit refuses a cursor no page gave out."""
    at, row_id = page.after(keyset)
    return None if at is None else (at, row_id)


def _advocate_id(signed_in: str, otherwise: Reason) -> str:
    """The signed-in id as an advocate id. A token may name an id that no advocate can have
    (ids in the directory are 8–64 of [A-Za-z0-9_-]): such a person has no feed and no
    shares, and is refused as anyone asking for what is not theirs would be."""
    try:
        return _ADVOCATE_ID.validate_python(signed_in)
    except ValidationError:
        raise Rejected(otherwise, "no feed or share belongs to this sign-in") from None


def _found(share: AdvocateShare | None) -> AdvocateShare:
    if share is None:
        raise Rejected(Reason.UNKNOWN_SHARE, "no share of yours has this id")
    return share
