"""What network connectors report on `advocacy.engagement.v1`, keyed by share id.

Connectors post scheduled shares for advocates who allowed it and report the outcome;
later they report what the post achieved (the metrics service defines those
observations). Connectors know people only by pseudonymous id.
"""

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from schemas.directory import Network
from schemas.envelope import CloudEvent, Contract

TOPIC = "advocacy.engagement.v1"

ShareId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


class PostOutcome(Contract):
    share_id: ShareId
    network: Network
    at: AwareDatetime
    detail: str = Field(default="", max_length=500, description="A failure's reason, as the network gave it")


class SharePublished(CloudEvent[PostOutcome]):
    type: Literal["advocacy.engagement.share.published.v1"] = "advocacy.engagement.share.published.v1"


class ShareFailed(CloudEvent[PostOutcome]):
    type: Literal["advocacy.engagement.share.failed.v1"] = "advocacy.engagement.share.failed.v1"


# Every type on the topic belongs in this union, so each reader decodes all of them and
# ignores what is not its business (an unknown type would be dead-lettered).
EngagementEvent = Annotated[SharePublished | ShareFailed, Field(discriminator="type")]
