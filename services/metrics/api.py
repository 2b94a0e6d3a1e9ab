"""Metrics' HTTP API, under `/api/`: reads only, rendered per request from the database.

| method, path | who | answers |
|---|---|---|
| `GET /api/me/impact` | signed in, allowing `share_attribution` | their own figures: JSON, HTML, CSV |
| `GET /api/me/leaderboard` | signed in, allowing `leaderboard` and `share_attribution` | the ranking of them (JSON) |
| `GET /api/reports` | role `analyst` | a period's report, or a campaign's (`campaign_id`): JSON, HTML, CSV |

Nobody names a person here: "my impact" and the leaderboard are the caller's (the token's
subject), and a report holds only figures of whole weeks that tell those of no fewer than
k people, alone or subtracted from each other (ADR 0020), and never the leaderboard.

The format is `format=json|html|csv` if given, else the `Accept` header's best match of
`application/json`, `text/html` and `text/csv` (q-values honoured, RFC 9110 §12.5.1; JSON
without the header, for `*/*` and on a tie); 406 when it allows none of them. The three
carry the same figures: the HTML page is self-contained (inline SVG charts, no script,
nothing fetched), the CSV has a row per group (reports.render_csv).
"""

import asyncio
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

import mimeparse
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from schemas.commands import Rejected
from schemas.curation import Id
from schemas.metrics import Currency, Figures, Reason
from services.metrics import domain, queries, reports
from services.metrics.config import MetricsSettings
from services.metrics.handlers import MetricsHandlers
from services.metrics.queries import Scope
from services.runtime.api import Db, HttpApi, HttpProblem, SignedIn, problem_responses, requires_role
from services.runtime.api.query import CalendarDate
from services.runtime.identity import Authenticator, OidcSettings, Principal
from services.runtime.unit_of_work import Connection


class Format(StrEnum):
    JSON = "json"
    HTML = "html"
    CSV = "csv"


# Least preferred first: mimeparse gives a tie to the last.
MEDIA_TYPES = {Format.CSV: "text/csv", Format.HTML: "text/html", Format.JSON: "application/json"}
_NO_STORE = {"Cache-Control": "no-store", "Vary": "Accept", "X-Content-Type-Options": "nosniff"}
# The page needs its inline <style> and nothing else; should a label ever slip past
# escaping, no script of it runs.
_HTML_POLICY = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}


def negotiate(format: Format | None, accept: str | None) -> Format:
    """`format` if given; else the best of MEDIA_TYPES for `accept` (JSON without one, or
    for one that cannot be parsed, which RFC 9110 §12.5.1 lets a server disregard);
    HttpProblem 406 `not_acceptable` if it accepts none."""
    if format is not None:
        return format
    if not accept or not accept.strip():
        return Format.JSON
    try:
        best = mimeparse.best_match(list(MEDIA_TYPES.values()), accept)
    except ValueError:
        return Format.JSON
    if not best:
        raise HttpProblem(406, "not_acceptable", "Reports come as application/json, text/html or text/csv "
                                                 "(or ask with format=json, html or csv).")
    return next(f for f, media_type in MEDIA_TYPES.items() if media_type == best)


# --- requests: query parameters, unknown ones refused --------------------------------------

class PeriodQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_on: CalendarDate = Field(alias="from", description="First day (UTC) of the shares counted")
    ends_on: CalendarDate = Field(alias="to", description="Last day (UTC) of the shares counted, inclusive; "
                                                  f"at most {domain.MAX_PERIOD_DAYS} days after `from`")


class ImpactQuery(PeriodQuery):
    currency: Currency | None = Field(default=None, description="Of the EMV; none: the rates file's default")
    format: Format | None = Field(default=None, description="json, html or csv; none: by the Accept header")


class ReportQuery(ImpactQuery):
    campaign_id: Id | None = Field(default=None, description="That campaign's shares only; none: all")


class LeaderboardQuery(PeriodQuery):
    campaign_id: Id | None = Field(default=None, description="That campaign's shares only; none: all")
    limit: int = Field(default=10, ge=1, le=100, description="Most places shown")


# --- responses ------------------------------------------------------------------------------

class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportScope(_Out):
    starts_on: date
    ends_on: date
    campaign_id: str | None


class DayClicks(_Out):
    day: date = Field(description="The day (UTC) the clicks happened")
    clicks: int


class NetworkFigures(Figures):
    network: str


class TopicFigures(Figures):
    topic: str


class ItemFigures(Figures):
    item_id: str
    title: str


class OrgUnitFigures(Figures):
    org_unit: str


class LocationFigures(Figures):
    location: str


class Rate(_Out):
    cpm: float = Field(description="Per thousand impressions")
    cpc: float = Field(description="Per click")
    cpe: float = Field(description="Per reaction, comment or reshare")


class Rates(_Out):
    currency: str
    formula: str
    rates: dict[str, Rate] = Field(description="By network; a network without rates adds no EMV")


class Report(_Out):
    """Figures of the shares created in `scope`'s period and of all they achieved until
    `as_of`: a person's own ("my impact"), and the part of every report about content."""

    title: str
    as_of: datetime
    scope: ReportScope
    totals: Figures
    clicks_by_day: list[DayClicks]
    by_network: list[NetworkFigures]
    top_items: list[ItemFigures] = Field(description=f"The {reports.TOP_ITEMS} items with the most clicks")
    by_topic: list[TopicFigures]
    rates: Rates


class AnalystReport(Report):
    """A period's or campaign's report, over whole weeks (`scope` is the period asked for,
    widened to Monday–Sunday) of which those over by `as_of` are counted (`closed_through`).
    A figure is shown only if it is made by at least `k_anonymity` distinct contributors in
    each week, and no subtraction of shown figures (a total minus its groups, one period or
    campaign minus another) tells those of fewer (ADR 0020): what is not shown is left out
    without a trace, and `totals` is null when withheld."""

    totals: Figures | None  # type: ignore[assignment]
    closed_through: date = Field(description="The last day counted: the Sunday ending the last week that is over")
    by_org_unit: list[OrgUnitFigures]
    by_location: list[LocationFigures]
    k_anonymity: int


class Place(_Out):
    rank: int = Field(description="1 for the most clicks; equal clicks and shares share a rank")
    advocate_id: str = Field(description="Pseudonymous id")
    shares: int
    clicks: int
    you: bool = Field(description="The caller's own place")


class Leaderboard(_Out):
    scope: ReportScope
    top: list[Place] = Field(description="The first places, among people who allow leaderboard and share_attribution")
    you: Place | None = Field(description="The caller's place, wherever it is; null without shares in the period")


_ALSO_HTML_AND_CSV: dict[int | str, dict[str, Any]] = {200: {"content": {
    "text/html": {"schema": {"type": "string"}}, "text/csv": {"schema": {"type": "string"}}}}}


# --- routes ---------------------------------------------------------------------------------

# A currency without rates is a query the service cannot answer, not a missing resource.
REFUSALS: Mapping[str, int] = {Reason.UNKNOWN_CURRENCY: 422}
# A report or a leaderboard over a year of history holds a pooled connection for seconds
# (a report rescans the period's clicks per breakdown); the pool (10) also serves the
# consumers, the relay and the schedules. So a process renders at most this many at once;
# more requests wait their turn. "My impact" reads a few indexed rows and does not wait.
HEAVY_READS_AT_ONCE = 2


def build_api(handlers: MetricsHandlers, settings: MetricsSettings, identity: OidcSettings) -> HttpApi:
    router = APIRouter()
    cards, k = handlers.rate_cards, settings.k_anonymity
    heavy = asyncio.Semaphore(HEAVY_READS_AT_ONCE)

    @router.get("/me/impact", response_model=Report, responses={**_ALSO_HTML_AND_CSV, **problem_responses(403, 406)})
    async def my_impact(query: Annotated[ImpactQuery, Query()], me: SignedIn, db: Db, request: Request) -> Response:
        """The caller's own figures: only their shares counted as theirs, which exist only
        while they allow `share_attribution` (403 `attribution_not_consented` otherwise);
        no groups of people, no leaderboard."""
        answer = negotiate(query.format, request.headers.get("accept"))
        domain.check_period(query.starts_on, query.ends_on)
        card = domain.rate_card(cards, query.currency)
        scope = Scope(query.starts_on, query.ends_on, advocate_id=me.advocate_id)

        async def read(conn: Connection) -> dict[str, Any]:
            domain.check_may_see_impact(await queries.valid_consents(conn, me.advocate_id))
            return await reports.gather(conn, scope, card, k, title="My impact", as_of=handlers.clock())

        return _rendered(await db.query(read), answer, Report, "my-impact")

    @router.get("/reports", response_model=AnalystReport,
                responses={**_ALSO_HTML_AND_CSV, **problem_responses(403, 404, 406)})
    async def report(query: Annotated[ReportQuery, Query()], analyst: Annotated[Principal, requires_role("analyst")],
                     db: Db, request: Request) -> Response:
        """The report of a period, or of one campaign's shares in it (404 `unknown_campaign`
        for a campaign metrics has not heard of)."""
        answer = negotiate(query.format, request.headers.get("accept"))
        domain.check_period(query.starts_on, query.ends_on)
        card = domain.rate_card(cards, query.currency)
        scope = Scope(query.starts_on, query.ends_on, campaign_id=query.campaign_id)

        async def read(conn: Connection) -> dict[str, Any]:
            title = "Advocacy report"
            if query.campaign_id is not None:
                campaign = await queries.campaign(conn, query.campaign_id)
                if campaign is None:
                    raise Rejected(Reason.UNKNOWN_CAMPAIGN, "no campaign with that id has been published")
                title = f"Campaign: {campaign['name']}"
            return await reports.gather(conn, scope, card, k, title=title, as_of=handlers.clock())

        async with heavy:
            gathered = await db.query(read)
        return _rendered(gathered, answer, AnalystReport,
                         "report" if query.campaign_id is None else f"campaign-{query.campaign_id}")

    @router.get("/me/leaderboard", responses=problem_responses(403))
    async def leaderboard(query: Annotated[LeaderboardQuery, Query()], me: SignedIn, db: Db,
                          response: Response) -> Leaderboard:
        """The ranking by clicks, then shares, of the people who allow `leaderboard` and
        `share_attribution`, by pseudonymous id; seen only by one of them (403
        `leaderboard_not_consented` for anyone else, whatever their role)."""
        domain.check_period(query.starts_on, query.ends_on)

        async def read(conn: Connection) -> list[queries.Standing]:
            domain.check_may_see_leaderboard(await queries.valid_consents(conn, me.advocate_id))
            return await queries.leaderboard(conn, query.starts_on, query.ends_on, query.campaign_id,
                                             size=query.limit, caller=me.advocate_id)

        async with heavy:
            standings = await db.query(read)
        places = [Place(**s._asdict(), you=s.advocate_id == me.advocate_id) for s in standings]
        response.headers.update(_NO_STORE)
        return Leaderboard(scope=ReportScope(starts_on=query.starts_on, ends_on=query.ends_on,
                                             campaign_id=query.campaign_id),
                           top=places[:query.limit], you=next((p for p in places if p.you), None))

    return HttpApi(settings, router, authenticator=Authenticator(identity), refusals=REFUSALS,
                   description=__doc__ or "")


def _rendered(report: dict[str, Any], answer: Format, model: type[Report], name: str) -> Response:
    """The report in the negotiated format; `name` and the period make the CSV's file name."""
    if answer is Format.HTML:
        return HTMLResponse(reports.render_html(report), headers={**_NO_STORE, **_HTML_POLICY})
    if answer is Format.CSV:
        scope = report["scope"]
        filename = f"{name}-{scope['starts_on']}-{scope['ends_on']}.csv"
        return Response(reports.render_csv(report), media_type="text/csv; header=present", headers={
            **_NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'})
    return JSONResponse(model.model_validate(report).model_dump(mode="json"), headers=_NO_STORE)
