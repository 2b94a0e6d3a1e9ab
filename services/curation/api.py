"""Curation's HTTP API (issue #15): editors draft, edit and submit items and keep campaigns
and feed sources; approvers work the review queue, approve or send back, publish and
retract; editors and the privacy officer read the audit trail.

Each command is the CloudEvent Kafka would carry, its `actor` the signed-in person (never
a field of the body), handled by the same `CurationHandlers` method in one transaction
(`db.command`), and answered with the state it left, read in that transaction. Roles:

- `editor`: draft, edit, submit; campaigns; feed sources; read items; retract;
- `approver`: the review queue, approve, send back, publish, retract; read items;
- `editor` or `privacy_officer`: the audit trail.

Four eyes hold whatever the roles: nobody approves or sends back what they drafted,
edited or submitted (or, after publication, the revision they wrote), and an approval
names the `version` its approver saw (ADR 0013).
"""

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar
from uuid import uuid4

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, Strict

from schemas import curation as c
from schemas.commands import ActorId
from schemas.directory import Network
from schemas.envelope import CloudEvent, TextsWithoutNul
from services.curation import queries
from services.curation.audit import Action, Channel
from services.curation.config import CurationSettings
from services.curation.domain import Item
from services.curation.handlers import CurationHandlers
from services.runtime.api import (
    Database,
    Db,
    HttpApi,
    HttpProblem,
    Keyset,
    Page,
    Paging,
    Principal,
    paginate,
    problem_responses,
    requires_role,
)
from services.runtime.identity import Authenticator, OidcSettings
from services.runtime.unit_of_work import Connection, UnitOfWork

T = TypeVar("T")
E = TypeVar("E", bound=CloudEvent[Any])

Editor = Annotated[Principal, requires_role("editor")]
Approver = Annotated[Principal, requires_role("approver")]
Reader = Annotated[Principal, requires_role("editor", "approver")]
# Taking an item down needs no second person, and should not wait for one (ADR 0013).
Retractor = Annotated[Principal, requires_role("editor", "approver")]
Auditor = Annotated[Principal, requires_role("editor", "privacy_officer")]
ItemId = Annotated[c.Id, Path()]
CampaignId = Annotated[c.Id, Path()]
SourceId = Annotated[c.Id, Path()]

BY_CREATION = Keyset(datetime, str)  # ORDER BY created_at DESC, id DESC
BY_LAST_CHANGE = Keyset(datetime, str)  # ORDER BY updated_at DESC, id DESC
AUDIT_ORDER = Keyset(datetime, int)  # ORDER BY at DESC, entry_id DESC

# A refused command's status where the kit's default (services/runtime/api/problems.py) is
# not the right one: the state the command meets forbids it.
REFUSALS = {"item_changed": 409, "source_removed": 409, "already_expired": 409, "sign_in_required": 403}


# --- what clients send ------------------------------------------------------------------

class Body(TextsWithoutNul):
    model_config = ConfigDict(extra="forbid")


# A JSON integer (pydantic would take `true` as 1), within the stored `integer`.
SeenVersion = Annotated[int, Strict(), Field(ge=1, le=2**31 - 1)]


class NewItem(Body):
    item_id: c.Id | None = Field(default=None, description="Yours to choose; the server makes one if empty")
    content: c.ItemContent


class ItemEdit(Body):
    content: c.ItemContent = Field(description="The whole content as it should be")
    version: SeenVersion | None = Field(default=None, description="The version you edited: refused `item_changed` "
                                "if someone changed the item since")


class ApprovalIn(Body):
    version: SeenVersion = Field(description="The version you reviewed (`version` of the item or queue entry)")


class SendBackIn(Body):
    note: str = Field(description="What the editors should change (at most 2,000 characters)")


class RetractionIn(Body):
    reason: str = Field(description="Why (at most 500 characters)")


class CampaignChange(Body):
    name: str
    goal: str = ""
    starts_on: date
    ends_on: date
    topics: c.Labels
    owner: ActorId | None = Field(default=None, description="Default: you when creating; unchanged when changing")


class NewCampaign(CampaignChange):
    campaign_id: c.Id | None = Field(default=None, description="Yours to choose; the server makes one if empty")


class NewSource(Body):
    source_id: c.Id | None = Field(default=None, description="Yours to choose; the server makes one if empty")
    url: str = Field(description="RSS or Atom feed; http(s) only")
    language: c.Language
    content_type: c.ContentType = c.ContentType.ARTICLE
    topics: c.Labels


# --- what it answers ----------------------------------------------------------------------

class ReviewedContent(BaseModel):
    """The fields of a published item that change only once a second person approves."""

    title: str
    summary: str
    share_texts: dict[Network, str]
    disclosure: str | None
    editable: bool


class RevisionView(BaseModel):
    proposed: ReviewedContent
    fields: list[c.ReviewedField] = Field(description="Where it differs from the published item")
    authors: list[str] = Field(description="Who wrote it (pseudonymous ids): none of them may approve it")


class SentBackView(BaseModel):
    note: str
    by: str = Field(description="The approver (pseudonymous id)")
    revision: bool = Field(description="A revision was dropped (the published item stayed as it was)")


class Approval(BaseModel):
    awaiting: Literal["item", "revision"]
    not_by: list[str] = Field(description="Who may not approve it or send it back: they wrote it (four eyes)")
    you_may_approve: bool = Field(description="Whether you may: you have the approver role and are not in not_by")


class ItemView(BaseModel):
    item_id: str
    status: c.ItemStatus
    version: int = Field(description="Raised by every change of content or revision; name it to approve")
    content: c.ItemContent
    title_from_text: bool = Field(description="The title was made from a feed entry's text: write a real one")
    drafted_by: str | None = Field(description="Pseudonymous id; null for a draft from a feed")
    edited_by: list[str]
    submitted_by: str | None = Field(description="Who submitted it for the review under way")
    authors: list[str] = Field(description="Everyone who drafted, edited or submitted it")
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    revision: RevisionView | None = Field(description="A change of a published item awaiting approval")
    sent_back: SentBackView | None = Field(description="The last send-back, until the item is submitted again")
    approval: Approval | None = Field(description="What awaits approval and who may give it; null if nothing does")


class ItemLineView(BaseModel):
    item_id: str
    status: c.ItemStatus
    title: str
    campaign_id: str | None
    version: int
    revision_pending: bool
    title_from_text: bool
    created_at: datetime
    updated_at: datetime


class QueueEntry(BaseModel):
    item_id: str
    awaiting: Literal["item", "revision"]
    status: c.ItemStatus
    version: int = Field(description="Name it to approve")
    title: str = Field(description="The title as it would be approved")
    fields: list[c.ReviewedField] = Field(description="For a revision: what it changes")
    drafted_by: str | None
    edited_by: list[str] = Field(description="For a revision: who wrote it")
    submitted_by: str | None
    you_may_approve: bool
    since: datetime = Field(description="Its last change")


class CampaignView(c.Campaign):
    created_at: datetime
    updated_at: datetime


class SourceView(c.Source):
    status: c.SourceStatus
    last_polled_at: datetime | None
    last_error: str | None = Field(description="What the last poll could not do; null if it went well")
    refused_entries: int = Field(description="Feed entries refused as drafts, ever (each once)")
    created_at: datetime


class AuditEntryView(BaseModel):
    at: datetime
    actor: str = Field(description="Pseudonymous id; `erased` once that person was erased")
    action: Action
    subject_kind: str = Field(description="What subject_id names: item, campaign or source")
    subject_id: str
    channel: Channel = Field(description="api: the actor signed in; kafka: the actor is who a content system said")
    command_id: str = Field(description="The command's id: its events carry it as causationid")


def item_view(row: queries.ItemRow, me: Principal) -> ItemView:
    item = row.item
    revision = item.revision
    return ItemView(
        item_id=item.id, status=item.status, version=item.version, content=item.content,
        title_from_text=item.title_from_text, drafted_by=item.drafted_by, edited_by=list(item.edited_by),
        submitted_by=item.submitted_by, authors=sorted(item.authors), published_at=item.published_at,
        created_at=row.created_at, updated_at=row.updated_at,
        revision=revision and RevisionView(
            proposed=ReviewedContent.model_validate(revision.content, from_attributes=True),
            fields=revision.fields(item.content), authors=list(revision.authors)),
        sent_back=item.sent_back and SentBackView(note=item.sent_back.note, by=item.sent_back.by,
                                                  revision=item.sent_back.revision),
        approval=Approval(awaiting=_awaiting(item), not_by=sorted(item.approvers_excluded()),
                          you_may_approve=_may_approve(item, me)) if item.awaiting_approval else None)


def queue_entry(row: queries.ItemRow, me: Principal) -> QueueEntry:
    item, revision = row.item, row.item.revision
    return QueueEntry(
        item_id=item.id, awaiting=_awaiting(item), status=item.status, version=item.version,
        title=(revision.content if revision else item.content).title,
        fields=revision.fields(item.content) if revision else [], drafted_by=item.drafted_by,
        edited_by=list(revision.authors if revision else item.edited_by), submitted_by=item.submitted_by,
        you_may_approve=_may_approve(item, me), since=row.updated_at)


def _awaiting(item: Item) -> Literal["item", "revision"]:
    return "revision" if item.revision is not None else "item"


def _may_approve(item: Item, me: Principal) -> bool:
    return me.has_role("approver") and item.may_approve(me.advocate_id)


# --- the routes ---------------------------------------------------------------------------

class Commands:
    """Commands from signed-in people: built as Kafka carries them, handled by `handlers`."""

    def __init__(self, handlers: CurationHandlers, source: str) -> None:
        self.handlers = handlers
        self.source = source

    def make(self, kind: type[E], subject: str, actor: Principal, **data: Any) -> E:
        data_type = kind.model_fields["data"].annotation
        assert isinstance(data_type, type)
        return kind.model_validate({"source": self.source, "subject": subject,
                                    "data": data_type(actor=actor.advocate_id, **data)})

    async def run(self, db: Database, command: CloudEvent[Any], handle: Callable[[UnitOfWork], Awaitable[None]],
                  read: Callable[[Connection], Awaitable[T | None]]) -> T:
        """`handle(uow)`, then `read` what it left, in one transaction."""

        async def in_one_transaction(uow: UnitOfWork) -> T:
            uow.cause = command  # its events name the command as their cause, as from Kafka
            await handle(uow)
            state = await read(uow.conn)
            assert state is not None, "a command that was accepted left its subject behind"
            return state

        return await db.command(in_one_transaction)

    async def on_item(self, db: Database, command: CloudEvent[Any], me: Principal,
                      handle: Callable[[UnitOfWork], Awaitable[None]] | None = None) -> ItemView:
        """An item command (`handle`: the command's handler, if it takes more than the command)."""
        handler = self.handlers.commands[type(command)]
        row = await self.run(db, command, handle or (lambda uow: handler(uow, command)),
                             lambda conn: queries.item(conn, command.subject))
        return item_view(row, me)


def items_router(commands: Commands) -> APIRouter:
    router = APIRouter(tags=["items"])
    h = commands.handlers

    @router.post("/items", status_code=201, responses=problem_responses(403, 404, 409, 422))
    async def draft(body: NewItem, me: Editor, db: Db) -> ItemView:
        """A new draft. 404 `unknown_campaign`; 409 `item_exists`; 422 for content the rules refuse."""
        command = commands.make(c.DraftItem, body.item_id or uuid4().hex, me, content=body.content)
        return await commands.on_item(db, command, me)

    @router.get("/items", responses=problem_responses(403))
    async def list_items(me: Reader, db: Db, page: Paging,
                         status: Annotated[c.ItemStatus | None, Query(description="Only items in this status")] = None,
                         ) -> Page[ItemLineView]:
        """Items, newest first."""
        lines = await db.query(lambda conn: queries.items(conn, status, page.after(BY_CREATION), page.limit + 1))
        return paginate(lines, page, BY_CREATION, lambda line: (line.created_at, line.item_id),
                        lambda line: ItemLineView.model_validate(line, from_attributes=True))

    @router.get("/items/{item_id}", responses=problem_responses(403, 404))
    async def read_item(item_id: ItemId, me: Reader, db: Db) -> ItemView:
        row = await db.query(lambda conn: queries.item(conn, item_id))
        if row is None:
            raise HttpProblem(404, c.Reason.UNKNOWN_ITEM.value, "No item with this id.")
        return item_view(row, me)

    @router.put("/items/{item_id}", responses=problem_responses(403, 404, 409, 422))
    async def edit(item_id: ItemId, body: ItemEdit, me: Editor, db: Db) -> ItemView:
        """Before publication: the new content, back to draft. After: fields that need no
        review apply now; changed reviewed fields become the pending revision."""
        command = commands.make(c.EditItem, item_id, me, content=body.content)
        return await commands.on_item(db, command, me, lambda uow: h.edit(uow, command, body.version))

    @router.post("/items/{item_id}/submit", responses=problem_responses(403, 404, 409, 422))
    async def submit(item_id: ItemId, me: Editor, db: Db) -> ItemView:
        return await commands.on_item(db, commands.make(c.SubmitItem, item_id, me), me)

    @router.post("/items/{item_id}/approve", responses=problem_responses(403, 404, 409))
    async def approve(item_id: ItemId, body: ApprovalIn, me: Approver, db: Db) -> ItemView:
        """The item in review, or a published item's pending revision. 403
        `four_eyes_violation`; 409 `item_changed`, `transition_not_allowed`."""
        command = commands.make(c.ApproveItem, item_id, me)
        return await commands.on_item(db, command, me, lambda uow: h.approve(uow, command, body.version))

    @router.post("/items/{item_id}/send-back", responses=problem_responses(403, 404, 409, 422))
    async def send_back(item_id: ItemId, body: SendBackIn, me: Approver, db: Db) -> ItemView:
        """The item in review back to draft, or a published item's pending revision dropped."""
        return await commands.on_item(db, commands.make(c.SendBackItem, item_id, me, note=body.note), me)

    @router.post("/items/{item_id}/publish", responses=problem_responses(403, 404, 409))
    async def publish(item_id: ItemId, me: Approver, db: Db) -> ItemView:
        """An approved item: published now, or scheduled if its `publish_at` is ahead."""
        return await commands.on_item(db, commands.make(c.PublishItem, item_id, me), me)

    @router.post("/items/{item_id}/retract", responses=problem_responses(403, 404, 409, 422))
    async def retract(item_id: ItemId, body: RetractionIn, me: Retractor, db: Db) -> ItemView:
        return await commands.on_item(db, commands.make(c.RetractItem, item_id, me, reason=body.reason), me)

    @router.get("/review-queue", tags=["review"], responses=problem_responses(403))
    async def review_queue(me: Approver, db: Db, page: Paging) -> Page[QueueEntry]:
        """Items in review and published items' pending revisions, newest first, each with
        who wrote it and whether you may approve it."""
        rows = await db.query(lambda conn: queries.awaiting_approval(conn, page.after(BY_LAST_CHANGE), page.limit + 1))
        return paginate(rows, page, BY_LAST_CHANGE, lambda row: (row.updated_at, row.item.id),
                        lambda row: queue_entry(row, me))

    return router


def campaigns_router(commands: Commands) -> APIRouter:
    router = APIRouter(tags=["campaigns"])

    @router.post("/campaigns", status_code=201, responses=problem_responses(403, 409, 422))
    async def create(body: NewCampaign, me: Editor, db: Db) -> CampaignView:
        details = body.model_dump(exclude={"campaign_id"}) | {"owner": body.owner or me.advocate_id}
        return await _on_campaign(db, commands.make(c.CreateCampaign, body.campaign_id or uuid4().hex, me, **details))

    @router.put("/campaigns/{campaign_id}", responses=problem_responses(403, 404, 422))
    async def change(campaign_id: CampaignId, body: CampaignChange, me: Editor, db: Db) -> CampaignView:
        async def current_owner() -> str:
            row = await db.query(lambda conn: queries.campaign(conn, campaign_id))
            return row.campaign.owner if row else me.advocate_id  # none: the command is refused unknown_campaign

        details = body.model_dump() | {"owner": body.owner or await current_owner()}
        return await _on_campaign(db, commands.make(c.ChangeCampaign, campaign_id, me, **details))

    @router.get("/campaigns", responses=problem_responses(403))
    async def list_campaigns(me: Reader, db: Db, page: Paging) -> Page[CampaignView]:
        rows = await db.query(lambda conn: queries.campaigns(conn, page.after(BY_CREATION), page.limit + 1))
        return paginate(rows, page, BY_CREATION, lambda row: (row.created_at, row.campaign.campaign_id),
                        _campaign_view)

    @router.get("/campaigns/{campaign_id}", responses=problem_responses(403, 404))
    async def read_campaign(campaign_id: CampaignId, me: Reader, db: Db) -> CampaignView:
        row = await db.query(lambda conn: queries.campaign(conn, campaign_id))
        if row is None:
            raise HttpProblem(404, c.Reason.UNKNOWN_CAMPAIGN.value, "No campaign with this id.")
        return _campaign_view(row)

    async def _on_campaign(db: Database, command: CloudEvent[Any]) -> CampaignView:
        handler = commands.handlers.commands[type(command)]
        return _campaign_view(await commands.run(db, command, lambda uow: handler(uow, command),
                                                 lambda conn: queries.campaign(conn, command.subject)))

    return router


def _campaign_view(row: queries.CampaignRow) -> CampaignView:
    return CampaignView(**row.campaign.model_dump(), created_at=row.created_at, updated_at=row.updated_at)


def sources_router(commands: Commands) -> APIRouter:
    router = APIRouter(tags=["feed sources"])

    @router.post("/sources", status_code=201, responses=problem_responses(403, 409, 422))
    async def register(body: NewSource, me: Editor, db: Db) -> SourceView:
        """A feed to poll into drafts, from now on."""
        details = body.model_dump(exclude={"source_id"})
        return await _on_source(db, commands.make(c.RegisterSource, body.source_id or uuid4().hex, me, **details))

    @router.get("/sources", responses=problem_responses(403))
    async def list_sources(me: Editor, db: Db, page: Paging) -> Page[SourceView]:
        rows = await db.query(lambda conn: queries.sources(conn, page.after(BY_CREATION), page.limit + 1))
        return paginate(rows, page, BY_CREATION, lambda row: (row.created_at, row.source.source_id), _source_view)

    @router.get("/sources/{source_id}", responses=problem_responses(403, 404))
    async def read_source(source_id: SourceId, me: Editor, db: Db) -> SourceView:
        row = await db.query(lambda conn: queries.source(conn, source_id))
        if row is None:
            raise HttpProblem(404, c.Reason.UNKNOWN_SOURCE.value, "No feed source with this id.")
        return _source_view(row)

    @router.post("/sources/{source_id}/pause", responses=problem_responses(403, 404, 409))
    async def pause(source_id: SourceId, me: Editor, db: Db) -> SourceView:
        """Not polled until resumed; its drafts stay."""
        return await _on_source(db, commands.make(c.PauseSource, source_id, me))

    @router.post("/sources/{source_id}/resume", responses=problem_responses(403, 404, 409))
    async def resume(source_id: SourceId, me: Editor, db: Db) -> SourceView:
        return await _on_source(db, commands.make(c.ResumeSource, source_id, me))

    @router.delete("/sources/{source_id}", responses=problem_responses(403, 404, 409))
    async def remove(source_id: SourceId, me: Editor, db: Db) -> SourceView:
        """Never polled again; its drafts stay, and it is kept (status `removed`) so that its
        id is not reused and its entries still count as seen."""
        return await _on_source(db, commands.make(c.RemoveSource, source_id, me))

    async def _on_source(db: Database, command: CloudEvent[Any]) -> SourceView:
        handler = commands.handlers.commands[type(command)]
        return _source_view(await commands.run(db, command, lambda uow: handler(uow, command),
                                               lambda conn: queries.source(conn, command.subject)))

    return router


def _source_view(row: queries.SourceRow) -> SourceView:
    return SourceView(**row.source.model_dump(), status=row.status, last_polled_at=row.last_polled_at,
                      last_error=row.last_error, refused_entries=row.refused_entries, created_at=row.created_at)


def audit_router() -> APIRouter:
    router = APIRouter(tags=["audit"])

    @router.get("/audit", responses=problem_responses(403))
    async def audit_trail(
        me: Auditor, db: Db, page: Paging,
        subject: Annotated[c.Id | None, Query(description="Only entries about this item, campaign or source")] = None,
        actor: Annotated[ActorId | None, Query(description="Only entries of this person")] = None,
    ) -> Page[AuditEntryView]:
        """Every editor's and approver's accepted command, newest first: who, what, when,
        on what, through which door; never content."""
        entries = await db.query(lambda conn: queries.audit_trail(conn, page.after(AUDIT_ORDER), page.limit + 1,
                                                                   subject, actor))
        return paginate(entries, page, AUDIT_ORDER, lambda e: (e.at, e.entry_id), lambda e: AuditEntryView(
            at=e.at, actor=e.actor, action=e.action, subject_kind=e.action.subject_kind, subject_id=e.subject_id,
            channel=e.channel, command_id=e.command_id))

    return router


def build_api(handlers: CurationHandlers, settings: CurationSettings, identity: OidcSettings) -> HttpApi:
    commands = Commands(handlers, f"{settings.source}/api")
    return HttpApi(settings, items_router(commands), campaigns_router(commands), sources_router(commands),
                   audit_router(), authenticator=Authenticator(identity), refusals=REFUSALS,
                   description="Items, the review queue, campaigns, feed sources and the audit trail, for "
                               "signed-in editors, approvers and privacy officers.")
