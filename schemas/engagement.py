"""What network connectors report on `advocacy.engagement.v1`, keyed by share id.

Connectors post scheduled shares for advocates who allowed it and report the outcome;
later they report what the post achieved (`EngagementObserved`, cumulative counters per
share) and how many followers an advocate has on a network (`FollowersReported`).
Connectors know people only by pseudonymous id.
"""

from typing import Annotated, ClassVar, Literal

from pydantic import Field, Strict

from schemas.directory import AdvocateId, Network
from schemas.envelope import CloudEvent, Contract, Count, Instant, keyed_by

TOPIC = "advocacy.engagement.v1"

ShareId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


class PostOutcome(Contract):
    share_id: ShareId
    network: Network
    at: Instant
    detail: str = Field(default="", max_length=500, description="A failure's reason, as the network gave it")


class SharePublished(CloudEvent[PostOutcome]):
    type: Literal["advocacy.engagement.share.published.v1"] = "advocacy.engagement.share.published.v1"
    subject_is: ClassVar[str] = "data.share_id"


class ShareFailed(CloudEvent[PostOutcome]):
    type: Literal["advocacy.engagement.share.failed.v1"] = "advocacy.engagement.share.failed.v1"
    subject_is: ClassVar[str] = "data.share_id"


class Engagement(Contract):
    """What one post achieved so far: counters since it was posted, never increments.
    A connector may report the same figures again or an older report late; readers
    keep the highest value of each counter."""

    share_id: ShareId
    network: Network
    impressions: Count = 0
    reactions: Count = 0
    comments: Count = 0
    reshares: Count = 0
    observed_at: Instant


class Followers(Contract):
    """An advocate's audience on one network, as the network reported it."""

    advocate_id: AdvocateId
    network: Network
    # Up to 2**31 − 1, the store's integer: the largest accounts have under 10**9.
    followers: Annotated[int, Strict()] = Field(ge=0, le=2**31 - 1)
    observed_at: Instant


class EngagementObserved(CloudEvent[Engagement]):
    """Subject: the share id."""

    type: Literal["advocacy.engagement.observed.v1"] = "advocacy.engagement.observed.v1"
    _keyed = keyed_by("share_id")


class FollowersReported(CloudEvent[Followers]):
    """Subject: the advocate id. Used for potential reach only with `network_reach` consent."""

    type: Literal["advocacy.engagement.followers.reported.v1"] = "advocacy.engagement.followers.reported.v1"
    ordered_by: ClassVar[str | None] = "data.observed_at"  # the latest report is the count
    _keyed = keyed_by("advocate_id")


# Every type on the topic belongs in this union, so each reader decodes all of them and
# ignores what is not its business (an unknown type would be dead-lettered).
EngagementEvent = Annotated[
    SharePublished | ShareFailed | EngagementObserved | FollowersReported, Field(discriminator="type")]
