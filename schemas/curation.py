"""Curation contracts: commands that curate items, campaigns and feed sources, and the
events that announce each step of an item's life, from draft to retraction.

Commands go to `advocacy.curation.commands.v1` with the item, campaign or source id as
`subject` (the Kafka key); events come out on `advocacy.curation.events.v1`, keyed alike.
Editors appear only by a pseudonymous `actor` id. These models check the shape of a
message (a malformed one is dead-lettered); the service checks policy — URL schemes,
text lengths, share-text limits, the workflow, four eyes — and answers a breach with
`advocacy.curation.command.rejected.v1` carrying a reason code.
"""

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import Field

from schemas.commands import ActorId, Command, RefusalReason, Rejection
from schemas.directory import Label, Network, Role
from schemas.envelope import CloudEvent, Contract, Flag, Instant, TextsWithoutNul, Timestamp

COMMANDS_TOPIC = "advocacy.curation.commands.v1"
EVENTS_TOPIC = "advocacy.curation.events.v1"


class Reason(RefusalReason):
    """Why the curation service refused a command."""

    INVALID_URL = "invalid_url", ("not http(s) with a host (`javascript:`, `data:`, `file:` …), credentials or "
                                  "whitespace in it, or a host IDNA cannot write in ASCII")
    TOO_LONG = "too_long", "a field over its length limit"
    MISSING_FIELD = "missing_field", "a field the step requires is missing or blank"
    SHARE_TEXT_TOO_LONG = ("share_text_too_long",
                           "text + disclosure + tracked link over the network's limit, counted as the network counts")
    SHARE_TEXT_EMPTY = "share_text_empty", "a suggested share text shows nothing (white space, invisible characters)"
    INVALID_PERIOD = "invalid_period", "expiry not after publication; a campaign ending before it starts"
    ALREADY_EXPIRED = "already_expired", "publishing an item whose expiry has passed"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed", "a step not allowed from the item's status"
    FOUR_EYES_VIOLATION = "four_eyes_violation", "the approver drafted, edited or submitted the item"
    SOURCE_URL_LOCKED = "source_url_locked", "changing a published item's URL (posted links point to it)"
    UNKNOWN_ITEM = "unknown_item", "no item with that id"
    ITEM_EXISTS = "item_exists", "drafting an item whose id is taken"
    UNKNOWN_CAMPAIGN = "unknown_campaign", "no campaign with that id"
    CAMPAIGN_EXISTS = "campaign_exists", "creating a campaign whose id is taken"
    SOURCE_EXISTS = "source_exists", "registering a feed source whose id is taken"
    UNKNOWN_SOURCE = "unknown_source", "pausing, resuming or removing a feed source that does not exist"
    SOURCE_REMOVED = "source_removed", "pausing, resuming or removing a feed source that was removed"
    SHARE_TEXT_INVALID_CHARACTERS = (
        "share_text_invalid_characters",
        "a suggested text holds a character the network refuses (X: U+FFFE, U+FEFF, U+FFFF)")
    SIGN_IN_REQUIRED = ("sign_in_required",
                        "approving or sending back sent on Kafka: only a signed-in approver does it, over HTTP")
    ITEM_CHANGED = "item_changed", "approving or editing a version of the item that is no longer the current one"


Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$", description="Item, campaign or source id")]
Language = Annotated[str, Field(pattern=r"^[a-z]{2}$", description="ISO 639-1")]
Hashtag = Annotated[str, Field(pattern=r"^\w{1,100}$", description="Without the leading #")]
Labels = Annotated[list[Label], Field(default_factory=list, max_length=50)]
D = TypeVar("D")


class ContentType(StrEnum):
    ARTICLE = "article"
    JOB = "job"
    EVENT = "event"
    PRODUCT = "product"
    INTERNAL_NEWS = "internal_news"


class ReviewedField(StrEnum):
    """What a second person must approve before it changes on a published item: the words
    the company says (title, summary), what advocates post (share texts, disclosure) and
    whether they may change it (`editable`). Other fields change at once (ADR 0013)."""

    TITLE = "title"
    SUMMARY = "summary"
    SHARE_TEXTS = "share_texts"
    DISCLOSURE = "disclosure"
    EDITABLE = "editable"


class ItemStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    EXPIRED = "expired"
    RETRACTED = "retracted"


class Audience(Contract):
    """Who may receive the item: all lists must match; an empty list does not restrict."""

    roles: list[Role] = Field(default_factory=list)
    org_units: Labels
    locations: Labels
    languages: list[Language] = Field(default_factory=list, max_length=20)
    topics: Labels


class ItemContent(Contract):
    source_url: str = Field(description="http(s) only; lengths are checked by the service")
    title: str
    summary: str = ""
    image_url: str | None = None
    language: Language
    topics: Labels
    content_type: ContentType = ContentType.ARTICLE
    hashtags: list[Hashtag] = Field(default_factory=list, max_length=30)
    disclosure: str | None = Field(
        default=None,
        description="Line every share must carry (e.g. '#employee'); mandatory where the company requires one")
    share_texts: dict[Network, str] = Field(
        default_factory=dict, description="Suggested text per network. A post is the text, the disclosure line "
        "and the link, one per line; the network's limit applies to the whole (X counts a link as 23)")
    audience: Audience = Field(default_factory=lambda: Audience.model_validate({}))
    campaign_id: Id | None = None
    publish_at: Timestamp | None = Field(default=None, description="Empty: publish on release")
    expire_at: Timestamp | None = None
    editable: Flag = Field(default=True, description="Whether advocates may edit the suggested text")


# --- commands' data ---------------------------------------------------------------

class CurationData(Command, TextsWithoutNul):
    """Base of curation's commands' data."""


class WriteItem(CurationData):
    content: ItemContent


class ItemAction(CurationData):
    """Submit, approve or publish: the actor is all there is to say."""


class Retraction(CurationData):
    reason: str = Field(description="Why; shown to editors, checked for length")


class SendBack(CurationData):
    note: str = Field(description="What the editors should change; shown to them, checked for length")


class CampaignDetails(CurationData):
    name: str
    goal: str = ""
    starts_on: date
    ends_on: date
    topics: Labels
    owner: ActorId


class SourceDetails(CurationData):
    url: str = Field(description="RSS or Atom feed; http(s) only")
    language: Language
    content_type: ContentType = ContentType.ARTICLE
    topics: Labels


class SourceAction(CurationData):
    """Pause, resume or remove a feed source: the actor is all there is to say."""


class CurationCommand(CloudEvent[D], Generic[D]):
    subject: Id


class DraftItem(CurationCommand[WriteItem]):
    type: Literal["advocacy.curation.item.draft.v1"] = "advocacy.curation.item.draft.v1"
    subject_is: ClassVar[str] = "the item's id (a new one: the sender chooses it)"


class EditItem(CurationCommand[WriteItem]):
    """Replace the item's whole content: a field left out is reset to its default (no
    campaign, no topics, hashtags or expiry, an audience list that restricts nothing). Before
    publication the item goes back to draft; after it, changed reviewed fields
    (`ReviewedField`) wait for a second person's approval and every other field applies at
    once (`item.updated`)."""

    type: Literal["advocacy.curation.item.edit.v1"] = "advocacy.curation.item.edit.v1"
    subject_is: ClassVar[str] = "the item's id (a new one: the sender chooses it)"


class SubmitItem(CurationCommand[ItemAction]):
    type: Literal["advocacy.curation.item.submit.v1"] = "advocacy.curation.item.submit.v1"
    subject_is: ClassVar[str] = "the item's id (a new one: the sender chooses it)"


class ApproveItem(CurationCommand[ItemAction]):
    """Approve an item in review, or a published item's pending revision. Taken only over
    HTTP from a signed-in approver: on Kafka it is refused `sign_in_required`."""

    type: Literal["advocacy.curation.item.approve.v1"] = "advocacy.curation.item.approve.v1"
    subject_is: ClassVar[str] = "the item's id (a new one: the sender chooses it)"


class SendBackItem(CurationCommand[SendBack]):
    """Back to draft with a note, by an approver who did not write it; for a published item,
    its pending revision is dropped instead. Taken only over HTTP from a signed-in approver:
    on Kafka it is refused `sign_in_required`."""

    type: Literal["advocacy.curation.item.send_back.v1"] = "advocacy.curation.item.send_back.v1"
    subject_is: ClassVar[str] = "the item's id (a new one: the sender chooses it)"


class PublishItem(CurationCommand[ItemAction]):
    """Release an approved item: published now, or scheduled if `publish_at` is ahead."""

    type: Literal["advocacy.curation.item.publish.v1"] = "advocacy.curation.item.publish.v1"
    subject_is: ClassVar[str] = "the item's id (a new one: the sender chooses it)"


class RetractItem(CurationCommand[Retraction]):
    type: Literal["advocacy.curation.item.retract.v1"] = "advocacy.curation.item.retract.v1"
    subject_is: ClassVar[str] = "the item's id (a new one: the sender chooses it)"


class CreateCampaign(CurationCommand[CampaignDetails]):
    type: Literal["advocacy.curation.campaign.create.v1"] = "advocacy.curation.campaign.create.v1"
    subject_is: ClassVar[str] = "the campaign's id (a new one: the sender chooses it)"


class ChangeCampaign(CurationCommand[CampaignDetails]):
    type: Literal["advocacy.curation.campaign.change.v1"] = "advocacy.curation.campaign.change.v1"
    subject_is: ClassVar[str] = "the campaign's id (a new one: the sender chooses it)"


class RegisterSource(CurationCommand[SourceDetails]):
    type: Literal["advocacy.curation.source.register.v1"] = "advocacy.curation.source.register.v1"
    subject_is: ClassVar[str] = "the source's id (a new one: the sender chooses it)"


class PauseSource(CurationCommand[SourceAction]):
    """Stop polling a source until it is resumed; its drafts stay."""

    type: Literal["advocacy.curation.source.pause.v1"] = "advocacy.curation.source.pause.v1"
    subject_is: ClassVar[str] = "the source's id (a new one: the sender chooses it)"


class ResumeSource(CurationCommand[SourceAction]):
    type: Literal["advocacy.curation.source.resume.v1"] = "advocacy.curation.source.resume.v1"
    subject_is: ClassVar[str] = "the source's id (a new one: the sender chooses it)"


class RemoveSource(CurationCommand[SourceAction]):
    """Stop polling a source for good; its drafts stay, and its id is not reused."""

    type: Literal["advocacy.curation.source.remove.v1"] = "advocacy.curation.source.remove.v1"
    subject_is: ClassVar[str] = "the source's id (a new one: the sender chooses it)"


AnyCommand = Annotated[
    DraftItem | EditItem | SubmitItem | ApproveItem | SendBackItem | PublishItem | RetractItem
    | CreateCampaign | ChangeCampaign | RegisterSource | PauseSource | ResumeSource | RemoveSource,
    Field(discriminator="type"),
]

# --- events' data -----------------------------------------------------------------

class ItemStep(Contract):
    item_id: Id
    actor: ActorId
    status: ItemStatus = Field(description="The item's status after this step")


class RevisionStep(Contract):
    """A revision of a published item proposed, or approved and applied."""

    item_id: Id
    actor: ActorId
    fields: list[ReviewedField] = Field(description="The reviewed fields the revision changes")


class SentBackItem(Contract):
    item_id: Id
    actor: ActorId = Field(description="The approver")
    status: ItemStatus = Field(description="The item's status after this step")
    note: str
    revision: Flag = Field(description="True: a published item's pending revision was dropped; the item is as it was")


class DraftedItem(Contract):
    item_id: Id
    actor: ActorId | None = Field(default=None, description="The editor; empty for a draft from a feed")
    source_id: Id | None = Field(default=None, description="The feed source the draft came from, if any")


class PublicationSchedule(Contract):
    item_id: Id
    publish_at: Instant


class PublishedItem(Contract):
    """Everything distribution needs, so nobody has to call back."""

    item_id: Id
    content: ItemContent
    published_at: Instant


class RetractedItem(Contract):
    item_id: Id
    actor: ActorId
    reason: str


class Expiry(Contract):
    item_id: Id
    expired_at: Instant


class Campaign(Contract):
    campaign_id: Id
    name: str
    goal: str
    starts_on: date
    ends_on: date
    topics: list[Label]
    owner: ActorId


class Source(Contract):
    source_id: Id
    url: str
    language: Language
    content_type: ContentType
    topics: list[Label]


class SourceStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    REMOVED = "removed"


class SourceChange(Contract):
    source_id: Id
    actor: ActorId
    status: SourceStatus = Field(description="The source's status after this step")


class ItemDrafted(CloudEvent[DraftedItem]):
    type: Literal["advocacy.curation.item.drafted.v1"] = "advocacy.curation.item.drafted.v1"
    subject_is: ClassVar[str] = "data.item_id"


class ItemEdited(CloudEvent[ItemStep]):
    """Changed before publication; an edit withdraws submission and approval (back to draft)."""

    type: Literal["advocacy.curation.item.edited.v1"] = "advocacy.curation.item.edited.v1"
    subject_is: ClassVar[str] = "data.item_id"


class ItemSubmitted(CloudEvent[ItemStep]):
    type: Literal["advocacy.curation.item.submitted.v1"] = "advocacy.curation.item.submitted.v1"
    subject_is: ClassVar[str] = "data.item_id"


class ItemApproved(CloudEvent[ItemStep]):
    type: Literal["advocacy.curation.item.approved.v1"] = "advocacy.curation.item.approved.v1"
    subject_is: ClassVar[str] = "data.item_id"


class ItemSentBack(CloudEvent[SentBackItem]):
    type: Literal["advocacy.curation.item.sent_back.v1"] = "advocacy.curation.item.sent_back.v1"
    subject_is: ClassVar[str] = "data.item_id"


class ItemRevisionProposed(CloudEvent[RevisionStep]):
    """An edit of a published item touched reviewed fields: they wait for a second person;
    whatever else it changed applied at once (`item.updated`)."""

    type: Literal["advocacy.curation.item.revision.proposed.v1"] = "advocacy.curation.item.revision.proposed.v1"
    subject_is: ClassVar[str] = "data.item_id"


class ItemRevisionApproved(CloudEvent[RevisionStep]):
    """A second person approved the pending revision; `item.updated` with the new content follows."""

    type: Literal["advocacy.curation.item.revision.approved.v1"] = "advocacy.curation.item.revision.approved.v1"
    subject_is: ClassVar[str] = "data.item_id"


class ItemScheduled(CloudEvent[PublicationSchedule]):
    type: Literal["advocacy.curation.item.scheduled.v1"] = "advocacy.curation.item.scheduled.v1"
    subject_is: ClassVar[str] = "data.item_id"


class ItemPublished(CloudEvent[PublishedItem]):
    type: Literal["advocacy.curation.item.published.v1"] = "advocacy.curation.item.published.v1"
    subject_is: ClassVar[str] = "data.item_id"


class ItemUpdated(CloudEvent[PublishedItem]):
    """A published item changed: the full new content. Reviewed fields change only once a
    second person approved them (`item.revision.approved`)."""

    type: Literal["advocacy.curation.item.updated.v1"] = "advocacy.curation.item.updated.v1"
    subject_is: ClassVar[str] = "data.item_id"


class ItemRetracted(CloudEvent[RetractedItem]):
    type: Literal["advocacy.curation.item.retracted.v1"] = "advocacy.curation.item.retracted.v1"
    subject_is: ClassVar[str] = "data.item_id"


class ItemExpired(CloudEvent[Expiry]):
    type: Literal["advocacy.curation.item.expired.v1"] = "advocacy.curation.item.expired.v1"
    subject_is: ClassVar[str] = "data.item_id"


class CampaignCreated(CloudEvent[Campaign]):
    type: Literal["advocacy.curation.campaign.created.v1"] = "advocacy.curation.campaign.created.v1"
    subject_is: ClassVar[str] = "data.campaign_id"


class CampaignChanged(CloudEvent[Campaign]):
    type: Literal["advocacy.curation.campaign.changed.v1"] = "advocacy.curation.campaign.changed.v1"
    subject_is: ClassVar[str] = "data.campaign_id"


class SourceRegistered(CloudEvent[Source]):
    type: Literal["advocacy.curation.source.registered.v1"] = "advocacy.curation.source.registered.v1"
    subject_is: ClassVar[str] = "data.source_id"


class SourcePaused(CloudEvent[SourceChange]):
    type: Literal["advocacy.curation.source.paused.v1"] = "advocacy.curation.source.paused.v1"
    subject_is: ClassVar[str] = "data.source_id"


class SourceResumed(CloudEvent[SourceChange]):
    type: Literal["advocacy.curation.source.resumed.v1"] = "advocacy.curation.source.resumed.v1"
    subject_is: ClassVar[str] = "data.source_id"


class SourceRemoved(CloudEvent[SourceChange]):
    type: Literal["advocacy.curation.source.removed.v1"] = "advocacy.curation.source.removed.v1"
    subject_is: ClassVar[str] = "data.source_id"


class CurationCommandRejected(CloudEvent[Rejection]):
    type: Literal["advocacy.curation.command.rejected.v1"] = "advocacy.curation.command.rejected.v1"
    subject_is: ClassVar[str] = "the refused command's subject"


AnyEvent = Annotated[
    ItemDrafted | ItemEdited | ItemSubmitted | ItemApproved | ItemSentBack | ItemScheduled | ItemPublished
    | ItemUpdated | ItemRevisionProposed | ItemRevisionApproved | ItemRetracted | ItemExpired | CampaignCreated
    | CampaignChanged | SourceRegistered | SourcePaused | SourceResumed | SourceRemoved | CurationCommandRejected,
    Field(discriminator="type"),
]

COMMANDS: list[type[CloudEvent[Any]]] = [
    DraftItem, EditItem, SubmitItem, ApproveItem, SendBackItem, PublishItem, RetractItem, CreateCampaign,
    ChangeCampaign, RegisterSource, PauseSource, ResumeSource, RemoveSource]
EVENTS: list[type[CloudEvent[Any]]] = [
    ItemDrafted, ItemEdited, ItemSubmitted, ItemApproved, ItemSentBack, ItemScheduled, ItemPublished, ItemUpdated,
    ItemRevisionProposed, ItemRevisionApproved, ItemRetracted, ItemExpired, CampaignCreated, CampaignChanged,
    SourceRegistered, SourcePaused, SourceResumed, SourceRemoved, CurationCommandRejected]
