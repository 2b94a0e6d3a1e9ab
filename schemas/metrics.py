"""Metrics contracts: metric snapshots out; the report commands of release 1.0.0, refused.

Events come out on `advocacy.metrics.events.v1`, keyed by the item or campaign. A
snapshot holds only figures about content, never about a person.

Reports are read over HTTP, rendered per request (services/metrics/api.py: an analyst's
`GET /api/reports`, the signed-in person's `GET /api/me/impact`). The Kafka commands that
asked for them (`RenderReport`, `RenderMyImpact`) stay in the contract, as released, but
are answered `sign_in_required`: who asks for a report must have signed in, and on Kafka the
actor is a field anyone with write access fills in. `ReportRendered` is no longer emitted.
"""

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.commands import Command, RefusalReason, Rejection
from schemas.directory import AdvocateId
from schemas.envelope import CloudEvent, Instant, keyed_by

COMMANDS_TOPIC = "advocacy.metrics.commands.v1"
EVENTS_TOPIC = "advocacy.metrics.events.v1"


class Reason(RefusalReason):
    """Why the metrics service refused a command, or a request over HTTP (services/metrics/api.py)."""

    ATTRIBUTION_NOT_CONSENTED = "attribution_not_consented", "\"my impact\" without a valid share_attribution consent"
    LEADERBOARD_NOT_CONSENTED = "leaderboard_not_consented", (
        "the leaderboard asked for by someone without valid leaderboard and share_attribution consents")
    INVALID_PERIOD = "invalid_period", "a period ending before it starts or spanning over 366 days"
    SIGN_IN_REQUIRED = "sign_in_required", (
        "a report or \"my impact\" asked for on Kafka: reports are read over HTTP, signed in")
    UNKNOWN_CAMPAIGN = "unknown_campaign", "no campaign with that id has been published"
    UNKNOWN_CURRENCY = "unknown_currency", "the rates file has no rates in that currency"


ReportId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")]


class Period(Command):
    report_id: ReportId
    starts_on: date
    ends_on: date = Field(description="Inclusive")
    currency: Currency | None = Field(default=None, description="Empty: the rates file's default currency")


class ReportRequest(Period):
    campaign_id: str | None = Field(default=None, max_length=64, description="Empty: everything in the period")


class ImpactRequest(Period):
    advocate_id: AdvocateId


class RenderReport(CloudEvent[ReportRequest]):
    """Was: a campaign or period report, written to files. Now refused with
    `sign_in_required`: an analyst reads reports over HTTP (`GET /api/reports`)."""

    type: Literal["advocacy.metrics.report.render.v1"] = "advocacy.metrics.report.render.v1"
    _keyed = keyed_by("report_id")


class RenderMyImpact(CloudEvent[ImpactRequest]):
    """Was: one advocate's own figures, written to files. Now refused with
    `sign_in_required`: the signed-in person reads them over HTTP (`GET /api/me/impact`)."""

    type: Literal["advocacy.metrics.impact.render.v1"] = "advocacy.metrics.impact.render.v1"
    _keyed = keyed_by("report_id")


MetricsCommand = Annotated[RenderReport | RenderMyImpact, Field(discriminator="type")]


class Published(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SnapshotScope(StrEnum):
    ITEM = "item"
    CAMPAIGN = "campaign"


class Figures(Published):
    shares: int
    clicks: int
    unique_clicks: int
    impressions: int
    reactions: int
    comments: int
    reshares: int
    potential_reach: int
    engagement_rate: float = Field(
        description="(reactions + comments + reshares + clicks) / impressions; 0 without impressions")
    emv: float = Field(description="Earned media value in `currency` (see the report's `rates`)")
    currency: Currency


class Snapshot(Published):
    scope: SnapshotScope
    id: str = Field(description="The item or campaign id")
    figures: Figures
    as_of: Instant


class Rendered(Published):
    report_id: ReportId
    kind: Literal["report", "impact"]
    html_path: str
    json_path: str
    rendered_at: Instant


class MetricSnapshot(CloudEvent[Snapshot]):
    """Totals so far for one item or campaign, published when they changed. Subject: that id."""

    type: Literal["advocacy.metrics.snapshot.v1"] = "advocacy.metrics.snapshot.v1"
    subject_is: ClassVar[str] = "data.id (the item's or the campaign's)"


class ReportRendered(CloudEvent[Rendered]):
    """No longer emitted: reports are no files on a service's disk (on Kubernetes those go
    with the pod) but are rendered per request over HTTP. Kept in the contract because it was
    released; readers may still meet old ones within the topic's retention."""

    type: Literal["advocacy.metrics.report.rendered.v1"] = "advocacy.metrics.report.rendered.v1"
    subject_is: ClassVar[str] = "data.report_id"
    no_longer_emitted: ClassVar[bool] = True


class MetricsCommandRejected(CloudEvent[Rejection]):
    type: Literal["advocacy.metrics.command.rejected.v1"] = "advocacy.metrics.command.rejected.v1"
    subject_is: ClassVar[str] = "the refused command's subject"


MetricsEvent = Annotated[MetricSnapshot | ReportRendered | MetricsCommandRejected, Field(discriminator="type")]
