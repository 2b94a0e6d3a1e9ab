"""Report commands: a campaign or period report, and "my impact" for one advocate.

A refused command is answered with `advocacy.metrics.command.rejected.v1`:
- `actor_not_subject`: "my impact" asked for by someone other than the advocate;
- `attribution_not_consented`: that advocate has no valid share_attribution consent, so
  there are no figures about them to show;
- `invalid_period`: the period ends before it starts, or spans more than 366 days;
- `unknown_campaign`: no such campaign has been published;
- `unknown_currency`: the rates file has no rates in that currency.
"""

from datetime import UTC, datetime

from faststream import Context

from schemas.metrics import (CommandRejected, MetricsCommand, Period, RenderMyImpact, RenderReport, Rendered,
                             ReportRendered)
from services.metrics import queries, reports
from services.metrics.config import MetricsSettings, MetricsTopics
from services.metrics.domain import currencies, load_rates
from services.metrics.queries import Scope
from services.runtime.inbox import Inbox
from services.runtime.rejections import Rejected, rejecting
from services.runtime.routing import ServiceRouter
from services.runtime.unit_of_work import UnitOfWork

MAX_DAYS = 366


def check_period(period: Period, known_currencies: set[str]) -> None:
    if period.ends_on < period.starts_on or (period.ends_on - period.starts_on).days >= MAX_DAYS:
        raise Rejected("invalid_period", f"a period ends on or after its start and spans at most {MAX_DAYS} days")
    if period.currency is not None and period.currency not in known_currencies:
        raise Rejected("unknown_currency", "the rates file has no rates in that currency")


def subscribe(router: ServiceRouter, settings: MetricsSettings, topics: MetricsTopics) -> None:
    async def scope_of(uow: UnitOfWork, command: RenderReport | RenderMyImpact) -> tuple[Scope, str]:
        """The scope and title, or Rejected."""
        request = command.data
        check_period(request, currencies(settings.emv_rates_file))
        if isinstance(command, RenderMyImpact):
            if request.actor != request.advocate_id:
                raise Rejected("actor_not_subject", "only the advocate can see their own impact")
            if not await queries.may_attribute(uow.conn, request.advocate_id):
                raise Rejected("attribution_not_consented", "figures are kept about you only with share_attribution")
            return Scope(request.starts_on, request.ends_on, advocate_id=request.advocate_id), "My impact"
        if request.campaign_id is None:
            return Scope(request.starts_on, request.ends_on), "Advocacy report"
        campaign = await queries.campaign(uow.conn, request.campaign_id)
        if campaign is None:
            raise Rejected("unknown_campaign", "no campaign with that id has been announced")
        return Scope(request.starts_on, request.ends_on, campaign_id=request.campaign_id), f"Campaign: {campaign['name']}"

    async def render(uow: UnitOfWork, command: RenderReport | RenderMyImpact) -> None:
        async with rejecting(uow, topics.events, CommandRejected, command, settings.service):
            scope, title = await scope_of(uow, command)
            card = load_rates(settings.emv_rates_file, command.data.currency)
            report = await reports.gather(uow.conn, scope, card, settings.k_anonymity)
            html_path, json_path = reports.write(report, settings.report_dir, command.data.report_id, title)
            kind = "impact" if isinstance(command, RenderMyImpact) else "report"
            await uow.emit(topics.events, ReportRendered, command.subject, Rendered(
                report_id=command.data.report_id, kind=kind, html_path=str(html_path), json_path=str(json_path),
                rendered_at=datetime.now(UTC)))

    @router.subscriber(topics.commands, title="metrics:commands", max_workers=settings.command_consumers)
    async def on_command(command: MetricsCommand, inbox: Inbox = Context()) -> None:
        await inbox.handle_once(command, render)
