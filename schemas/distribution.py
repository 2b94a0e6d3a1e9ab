"""Distribution contracts: share requests and cancellations in; audiences, notifications,
shares, clicks out.

Commands go to `advocacy.distribution.commands.v1` keyed by the advocate; both act for a
person, so the service takes them only through its HTTP API, signed in (`/api/me/shares`),
and refuses them on Kafka with `sign_in_required` (ADR 0006).

Events go to three topics, by who may read them (ADR 0018):
- `advocacy.distribution.events.v1`, for the platform's services only: notification requests
  (keyed by the advocate), shares, cancellations, clicks (keyed by the share: everything
  about one share, in order) and rejections;
- `advocacy.distribution.posts.v1`, for network connectors only: publish and retraction
  requests, keyed by the share;
- `advocacy.distribution.items.v1`, for integration partners: per item, that it was
  distributed and to how large an audience, told as "fewer than k" below K_ANONYMITY; and
  later, as people who say yes afterwards get it too, its audience's growth, told only in
  steps of at least k people (ADR 0022).
No contact data anywhere.
"""

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from schemas.commands import Command, RefusalReason, Rejection
from schemas.directory import AdvocateId, Digest, Network
from schemas.engagement import ShareId
from schemas.envelope import CloudEvent, Contract, Flag, Instant, Timestamp, keyed_by

COMMANDS_TOPIC = "advocacy.distribution.commands.v1"
EVENTS_TOPIC = "advocacy.distribution.events.v1"
POSTS_TOPIC = "advocacy.distribution.posts.v1"
ITEMS_TOPIC = "advocacy.distribution.items.v1"


class Reason(RefusalReason):
    """Why the distribution service refused a command."""

    ACTOR_NOT_SUBJECT = "actor_not_subject", "a share requested in somebody else's name"
    ITEM_NOT_IN_FEED = "item_not_in_feed", "the item is not in the advocate's feed"
    ITEM_NOT_ACTIVE = "item_not_active", "the item was retracted or has expired"
    TEXT_TOO_LONG = "text_too_long", "the post (text, disclosure, link) is over the network's limit"
    TEXT_NOT_EDITABLE = "text_not_editable", "an edited text for an item that forbids edits"
    TEXT_EMPTY = "text_empty", "an edited text that shows nothing: empty, white space, invisible characters"
    SCHEDULED_SHARING_NOT_CONSENTED = ("scheduled_sharing_not_consented",
                                       "scheduling a post without the scheduled_sharing consent")
    SCHEDULED_IN_THE_PAST = "scheduled_in_the_past", "scheduled_at is not in the future"
    TEXT_INVALID_CHARACTERS = "text_invalid_characters", "the post holds a character the network refuses"
    INVALID_URL = "invalid_url", "the item's URL cannot be written as a link (no ASCII form of its host)"
    UNKNOWN_SHARE = "unknown_share", "no share of the advocate's has this id (another person's share included)"
    SHARE_NOT_SCHEDULED = "share_not_scheduled", "cancelling a share that is no longer scheduled"
    SIGN_IN_REQUIRED = ("sign_in_required",
                        "a share request or cancellation sent on Kafka: it is taken only over HTTP, signed in")


ItemId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
CampaignId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]  # curation's, as items carry them


class ShareRequest(Command):
    advocate_id: AdvocateId
    item_id: ItemId
    network: Network
    text: str | None = Field(default=None, max_length=70000, description="Edited text, if the item allows it")
    scheduled_at: Timestamp | None = Field(default=None, description="Posted by a connector at that time")


class RequestShare(CloudEvent[ShareRequest]):
    type: Literal["advocacy.distribution.share.request.v1"] = "advocacy.distribution.share.request.v1"
    _keyed = keyed_by("advocate_id")


class ShareCancellation(Command):
    advocate_id: AdvocateId
    share_id: ShareId


class CancelShare(CloudEvent[ShareCancellation]):
    """The advocate calls off one of their scheduled shares before it is posted."""

    type: Literal["advocacy.distribution.share.cancel.v1"] = "advocacy.distribution.share.cancel.v1"
    _keyed = keyed_by("advocate_id")


DistributionCommand = Annotated[RequestShare | CancelShare, Field(discriminator="type")]


class CancellationReason(StrEnum):
    CONSENT_WITHDRAWN = "consent_withdrawn"
    ITEM_RETRACTED = "item_retracted"
    ITEM_EXPIRED = "item_expired"
    ADVOCATE_ERASED = "advocate_erased"
    CANCELLED_BY_ADVOCATE = "cancelled_by_advocate"


class Distribution(Contract):
    item_id: ItemId
    audience_size: int = Field(ge=0, description="Feed entries written for this item")
    distributed_at: Instant


class Audience(Contract):
    """How far an item went, without telling whether any one person is in its audience."""

    item_id: ItemId
    audience_size: int | None = Field(
        default=None, ge=0,
        description="Feed entries written for this item, from `k` on; absent (null) when fewer than `k` "
                    "(audience_below_k): below k, the number would tell whether the few people an audience "
                    "matches said yes to receive_content")
    audience_below_k: Flag = Field(description="True when fewer than `k` people got the item (0 included)")
    k: int = Field(ge=1, description="The K_ANONYMITY threshold in force")
    distributed_at: Instant


class AudienceGrowth(Contract):
    """How far an item has reached since it was distributed, told in steps of at least k."""

    item_id: ItemId
    audience_size: int = Field(ge=1, description="Feed entries written for this item so far: at publication "
                                                 "and for everyone who got it later (a yes, a join), never less")
    added: int = Field(ge=1, description="Entries since the size last told (an audience told as fewer than k "
                                         "counts as 0); always at least `k`")
    k: int = Field(ge=1, description="The K_ANONYMITY threshold in force")
    counted_at: Instant


class Notification(Contract):
    advocate_id: AdvocateId
    digest: Digest = Field(description="immediate, or the daily or weekly digest it belongs to")
    item_ids: list[ItemId] = Field(min_length=1)


class Share(Contract):
    share_id: ShareId
    advocate_id: AdvocateId
    item_id: ItemId
    campaign_id: CampaignId | None = None  # absent when None: CloudEvent.to_bytes leaves None out
    network: Network
    text: str
    tracked_url: str = Field(description="The link to post: resolves through the redirect, counts clicks")
    share_intent_url: str | None = Field(default=None,
                                         description="Opens the network's composer; None where it has none")
    scheduled_at: Instant | None = None
    created_at: Instant


class PostRequest(Contract):
    share_id: ShareId
    advocate_id: AdvocateId
    network: Network
    post: str = Field(description="Text, disclosure and tracked link, as posted")


class ShareEnded(Contract):
    share_id: ShareId
    item_id: ItemId
    network: Network
    reason: CancellationReason


class Click(Contract):
    share_id: ShareId
    item_id: ItemId
    campaign_id: CampaignId | None = None
    network: Network
    visitor: str = Field(min_length=1, max_length=64,
                         description="Salted hash of the visitor, rotating daily; no IP address is kept")
    bot: Flag
    clicked_at: Instant


class ItemDistributedV1(CloudEvent[Distribution]):
    """No longer emitted: its exact `audience_size` told a partner whether the one person a
    narrow audience matched said yes (review S10). Kept in the contract because it was
    released; old ones may remain on `advocacy.distribution.events.v1` within its retention.
    Now: `ItemDistributed` (v2), on `advocacy.distribution.items.v1`."""

    type: Literal["advocacy.distribution.item.distributed.v1"] = "advocacy.distribution.item.distributed.v1"
    subject_is: ClassVar[str] = "data.item_id"
    no_longer_emitted: ClassVar[bool] = True


class ItemDistributed(CloudEvent[Audience]):
    """An item reached its audience's feeds: its size, or "fewer than k"."""

    type: Literal["advocacy.distribution.item.distributed.v2"] = "advocacy.distribution.item.distributed.v2"
    subject_is: ClassVar[str] = "data.item_id"


class ItemAudienceGrew(CloudEvent[AudienceGrowth]):
    """More people got an active item since its size was last told, at least k of them
    (checked every DISTRIBUTION_AUDIENCE_REPORT_SECONDS; ADR 0022)."""

    type: Literal["advocacy.distribution.item.audience.grew.v1"] = "advocacy.distribution.item.audience.grew.v1"
    subject_is: ClassVar[str] = "data.item_id"


class NotificationRequested(CloudEvent[Notification]):
    type: Literal["advocacy.distribution.notification.requested.v1"] = "advocacy.distribution.notification.requested.v1"
    subject_is: ClassVar[str] = "data.advocate_id"


class ShareCreated(CloudEvent[Share]):
    type: Literal["advocacy.distribution.share.created.v1"] = "advocacy.distribution.share.created.v1"
    subject_is: ClassVar[str] = "data.share_id"


class PublishRequested(CloudEvent[PostRequest]):
    """For connectors: post this scheduled share now."""

    type: Literal["advocacy.distribution.share.publish.requested.v1"] = (
        "advocacy.distribution.share.publish.requested.v1")
    subject_is: ClassVar[str] = "data.share_id"


class ShareCancelled(CloudEvent[ShareEnded]):
    """A share that will not be posted: scheduled, or already requested from a connector
    (`share.publish.requested`, same key, earlier), which must then not post it."""

    type: Literal["advocacy.distribution.share.cancelled.v1"] = "advocacy.distribution.share.cancelled.v1"
    subject_is: ClassVar[str] = "data.share_id"


class PublishCancelled(CloudEvent[ShareEnded]):
    """For connectors: do not post this share, asked for earlier (`share.publish.requested`,
    same key); its advocate withdrew or was erased. A post made all the same is asked to come
    down (`share.retraction.requested`) once the connector reports it."""

    type: Literal["advocacy.distribution.share.publish.cancelled.v1"] = (
        "advocacy.distribution.share.publish.cancelled.v1")
    subject_is: ClassVar[str] = "data.share_id"


class RetractionRequested(CloudEvent[ShareEnded]):
    """For connectors: take this published share down."""

    type: Literal["advocacy.distribution.share.retraction.requested.v1"] = (
        "advocacy.distribution.share.retraction.requested.v1")
    subject_is: ClassVar[str] = "data.share_id"


class LinkClicked(CloudEvent[Click]):
    type: Literal["advocacy.distribution.link.clicked.v1"] = "advocacy.distribution.link.clicked.v1"
    subject_is: ClassVar[str] = "data.share_id"


class DistributionCommandRejected(CloudEvent[Rejection]):
    type: Literal["advocacy.distribution.command.rejected.v1"] = "advocacy.distribution.command.rejected.v1"
    subject_is: ClassVar[str] = "the refused command's subject"


DistributionEvent = Annotated[
    ItemDistributedV1 | NotificationRequested | ShareCreated | ShareCancelled | LinkClicked
    | DistributionCommandRejected,
    Field(discriminator="type"),
]
PostEvent = Annotated[PublishRequested | PublishCancelled | RetractionRequested, Field(discriminator="type")]
ItemEvent = Annotated[ItemDistributed | ItemAudienceGrew, Field(discriminator="type")]
