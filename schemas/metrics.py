"""Metrics contracts: report commands in; metric snapshots and rendered reports out.

Commands go to `advocacy.metrics.commands.v1` keyed by the report id; events come out on
`advocacy.metrics.events.v1`, keyed by the item or campaign (snapshots) or the report id.
A snapshot holds only figures about content, never about a person. "My impact" is
rendered only for the advocate themself: a command whose `actor` is not its
`advocate_id` is rejected (`actor_not_subject`).
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.commands import Command, RefusalReason, Rejection
from schemas.directory import AdvocateId
from schemas.envelope import CloudEvent, keyed_by

COMMANDS_TOPIC = "advocacy.metrics.commands.v1"
EVENTS_TOPIC = "advocacy.metrics.events.v1"


class Reason(RefusalReason):
    """Why the metrics service refused a command."""

    ACTOR_NOT_SUBJECT = "actor_not_subject", "\"my impact\" asked for by anyone but that advocate"
    ATTRIBUTION_NOT_CONSENTED = "attribution_not_consented", "\"my impact\" without a valid share_attribution consent"
    INVALID_PERIOD = "invalid_period", "a period ending before it starts or spanning over 366 days"
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
    """A campaign or period report, as HTML with charts and as JSON."""

    type: Literal["advocacy.metrics.report.render.v1"] = "advocacy.metrics.report.render.v1"
    _keyed = keyed_by("report_id")


class RenderMyImpact(CloudEvent[ImpactRequest]):
    """One advocate's own figures; only they may ask for it."""

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
    as_of: datetime


class Rendered(Published):
    report_id: ReportId
    kind: Literal["report", "impact"]
    html_path: str
    json_path: str
    rendered_at: datetime


class MetricSnapshot(CloudEvent[Snapshot]):
    """Totals so far for one item or campaign, published when they changed. Subject: that id."""

    type: Literal["advocacy.metrics.snapshot.v1"] = "advocacy.metrics.snapshot.v1"


class ReportRendered(CloudEvent[Rendered]):
    type: Literal["advocacy.metrics.report.rendered.v1"] = "advocacy.metrics.report.rendered.v1"


class MetricsCommandRejected(CloudEvent[Rejection]):
    type: Literal["advocacy.metrics.command.rejected.v1"] = "advocacy.metrics.command.rejected.v1"


MetricsEvent = Annotated[MetricSnapshot | ReportRendered | MetricsCommandRejected, Field(discriminator="type")]
