"""Reports for analysts over HTTP: the HTML page with its charts and the rates it used, the
EMV of a hand-computed case, the same figures as JSON and CSV, the format chosen by
`format=` or the Accept header; snapshots per item and campaign for partners."""

import csv
import io
import re
from datetime import timedelta

from tests.integration.metrics.conftest import DAY, new_id


def bars(html: str, chart_id: str) -> list[tuple[str, float]]:
    svg = re.search(rf'<svg class="chart" id="{chart_id}".*?</svg>', html, re.S).group(0)
    return [(label, float(value)) for label, value in re.findall(r'class="bar" data-label="([^"]*)" data-value="([^"]*)"', svg)]


async def a_campaign(metrics, people: int = 5) -> str:
    """A campaign of two items shared on linkedin and x, clicked and observed, and a share
    outside it: the same by each of `people` people (k of them, so a report may show it)."""
    campaign = new_id("camp")
    await metrics.campaign(campaign, name="Spring hiring")
    await metrics.item("item-00000001", "Join our plant", campaign)
    await metrics.item("item-00000002", "=HYPERLINK(\"http://evil.example\")", campaign)
    for _ in range(people):
        advocate = new_id("adv")
        a = metrics.share(advocate, "item-00000001", "linkedin", campaign)
        b = metrics.share(advocate, "item-00000002", "x", campaign)
        elsewhere = metrics.share(advocate, "item-00000003", "x")  # not in the campaign
        clicks = [metrics.click(a, "v1"), metrics.click(a, "v2"), metrics.click(a, "v3", at=DAY + timedelta(days=1)),
                  metrics.click(b, "v1"), metrics.click(a, "bot", bot=True), metrics.click(elsewhere, "v9"),
                  metrics.click(a, "v1", bot=True)]  # v1's browser prefetched it too: v1's click stays a person's
        await metrics.send_to(metrics.topics.distribution_events, a, b, elsewhere, *clicks)
        # linkedin: 2000 impressions, 10 reactions, 2 comments; x: 1000 impressions, 4 reshares
        await metrics.send_to(metrics.topics.engagement,
                              metrics.observed(a, impressions=2000, reactions=10, comments=2),
                              metrics.observed(b, impressions=1000, reshares=4))
    await metrics.drained(metrics.topics.distribution_events, metrics.topics.engagement, metrics.topics.curation_events)
    return campaign


async def test_a_campaign_report_renders_html_with_its_charts_and_states_its_rates(metrics):
    campaign = await a_campaign(metrics)

    response = await metrics.report(format="html", campaign_id=campaign)
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    data = await metrics.report_json(campaign_id=campaign)

    assert bars(html, "clicks-over-time") == [("2026-03-02", 15.0), ("2026-03-03", 5.0)]
    assert bars(html, "clicks-by-network") == [("linkedin", 15.0), ("x", 5.0)]
    assert bars(html, "top-items") == [("Join our plant", 15.0), ("=HYPERLINK(&quot;http://evil.example&quot;)", 5.0)]
    assert "<script" not in html and "default-src 'none'" in response.headers["content-security-policy"]
    # EMV by hand, EUR rates, per person: linkedin 2000/1000×8.00 + 3×1.20 + 12×0.50 = 25.60;
    #                                      x        1000/1000×4.00 + 1×0.60 + 4×0.20  =  5.40; 5 people
    assert data["totals"]["emv"] == 155.00 and data["totals"]["currency"] == "EUR"
    assert data["rates"]["rates"]["linkedin"] == {"cpm": 8.0, "cpc": 1.2, "cpe": 0.5}
    assert data["title"] == "Campaign: Spring hiring" and data["scope"]["campaign_id"] == campaign
    assert "Campaign: Spring hiring" in html and "155.00 EUR" in html and "cpm" in html


async def test_the_csv_has_a_row_per_group_with_the_figures_of_the_json(metrics):
    campaign = await a_campaign(metrics)
    data = await metrics.report_json(campaign_id=campaign, currency="CHF")

    response = await metrics.report(format="csv", campaign_id=campaign, currency="CHF")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == f'attachment; filename="campaign-{campaign}-2026-02-23-2026-04-05.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    by_group = {(r["dimension"], r["group"]): r for r in rows}
    assert by_group[("total", "")]["emv"] == f"{data['totals']['emv']:.2f}" and by_group[("total", "")]["currency"] == "CHF"
    for dimension, key in (("network", "network"), ("topic", "topic"), ("org_unit", "org_unit"), ("item", "item_id")):
        groups = data["top_items"] if dimension == "item" else data[f"by_{dimension}"]
        for group in groups:
            row = by_group[(dimension, group[key])]
            assert {f: row[f] for f in ("shares", "clicks", "unique_clicks", "impressions", "engagement_rate")} == {
                f: str(group[f]) for f in ("shares", "clicks", "unique_clicks", "impressions", "engagement_rate")}
    assert [(r["group"], r["clicks"]) for r in rows if r["dimension"] == "click_day"] == [("2026-03-02", "15"), ("2026-03-03", "5")]
    # A title a spreadsheet would run as a formula is kept as text.
    assert by_group[("item", "item-00000002")]["title"] == "'=HYPERLINK(\"http://evil.example\")"
    assert len(rows) == 1 + len(data["by_network"]) + len(data["by_topic"]) + len(data["by_org_unit"]) + len(
        data["by_location"]) + len(data["top_items"]) + len(data["clicks_by_day"])


async def test_the_format_is_format_if_given_else_the_best_the_accept_header_allows(metrics):
    cases = [  # (format=, Accept) -> content type
        ("csv", "application/json", "text/csv"),
        (None, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),  # a browser
        (None, "text/csv;q=0.5, application/json;q=0.2", "text/csv"),
        (None, "*/*", "application/json"),
        (None, None, "application/json"),
        (None, "text/*", "text/html"),
    ]
    for format, accept, expected in cases:
        response = await metrics.report(accept, **({"format": format} if format else {}))
        assert (response.status_code, response.headers["content-type"].split(";")[0]) == (200, expected), (format, accept)
        assert response.headers["vary"] == "Accept" and response.headers["cache-control"] == "no-store"

    refused = await metrics.report("application/pdf")
    assert (refused.status_code, refused.json()["reason"]) == (406, "not_acceptable")
    unknown = await metrics.report(format="pdf")
    assert (unknown.status_code, unknown.json()["reason"]) == (422, "invalid_request")


async def test_snapshots_are_published_per_item_and_campaign_when_figures_change(metrics):
    campaign = new_id("camp")
    shares = [metrics.share(new_id("adv"), "item-00000007", "linkedin", campaign) for _ in range(5)]
    await metrics.send_to(metrics.topics.distribution_events, *shares, *[metrics.click(s) for s in shares],
                          metrics.click(shares[0], "v2"))
    await metrics.drained(metrics.topics.distribution_events)

    def snapshot(scope: str, id_: str, **figures) -> object:
        return lambda e: (e["type"] == "advocacy.metrics.snapshot.v1" and (e["data"]["scope"], e["data"]["id"]) == (
            scope, id_) and figures.items() <= e["data"]["figures"].items())

    await metrics.events(snapshot("item", "item-00000007", clicks=6, shares=5))
    await metrics.events(snapshot("campaign", campaign, clicks=6, shares=5))
