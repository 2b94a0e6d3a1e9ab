"""The analysts' reports: a period's, or one campaign's, as a page with charts and as CSV.

Both come from the metrics service's one report (GET /api/reports, JSON for the page, CSV
for the download), rendered per request there, so the page and the file carry the same
figures. Charts are inline SVG drawn here: no script, nothing fetched.
"""

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from services.portal import i18n
from services.portal.web import Page, page
from services.runtime.api.query import CalendarDate

router = APIRouter()
PageDep = Annotated[Page, Depends(page)]
From = Annotated[CalendarDate | None, Query(alias="from")]
To = Annotated[CalendarDate | None, Query(alias="to")]
CampaignId = Annotated[str | None, Query(pattern="^([A-Za-z0-9_-]{8,64})?$")]


def _scope(starts: date | None, ends: date | None, campaign_id: str | None) -> dict[str, str]:
    today = datetime.now(i18n.zone()).date()
    ends = ends or today
    starts = starts or ends - timedelta(days=29)
    scope = {"from": starts.isoformat(), "to": ends.isoformat()}
    if campaign_id:
        scope["campaign_id"] = campaign_id
    return scope


def bars(rows: list[dict[str, Any]], label: str, value: str = "clicks") -> dict[str, Any]:
    """A horizontal bar chart's geometry: one bar per row, scaled to the largest value."""
    top = max((row[value] for row in rows), default=0) or 1
    return {"rows": [{"label": row[label], "value": row[value], "width": round(300 * row[value] / top, 1),
                      "y": 24 * i} for i, row in enumerate(rows)], "height": max(24 * len(rows), 24)}


@router.get("/reports")
async def report(p: PageDep, starts: From = None, ends: To = None, campaign_id: CampaignId = None) -> Response:
    scope = _scope(starts, ends, campaign_id)
    shown = await p.get("metrics", "/api/reports", format="json", **scope)
    return p.render("reports.html", report=shown, scope=scope,
                    by_day=bars(shown["clicks_by_day"], "day"), by_network=bars(shown["by_network"], "network"))


@router.get("/reports/csv")
async def report_csv(p: PageDep, starts: From = None, ends: To = None, campaign_id: CampaignId = None) -> Response:
    scope = _scope(starts, ends, campaign_id)
    answer = await p.portal.apis.request(p.caller, "metrics", "GET", "/api/reports", params={**scope, "format": "csv"},
                                         accept="text/csv")
    disposition = answer.headers.get("content-disposition") or 'attachment; filename="report.csv"'
    return Response(answer.content, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": disposition})
