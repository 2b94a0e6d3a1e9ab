"""Reports and snapshots: the HTML report with its charts and the rates it used, the
EMV of a hand-computed case, and snapshots per item and campaign for partners."""

import json
import re
from datetime import timedelta

from tests.integration.metrics.conftest import DAY, new_id, report_command


def bars(html: str, chart_id: str) -> list[tuple[str, float]]:
    svg = re.search(rf'<svg class="chart" id="{chart_id}".*?</svg>', html, re.S).group(0)
    return [(label, float(value)) for label, value in re.findall(r'class="bar" data-label="([^"]*)" data-value="([^"]*)"', svg)]


async def test_a_campaign_report_renders_html_with_its_charts_and_states_its_rates(metrics):
    campaign = new_id("camp")
    await metrics.campaign(campaign, name="Spring hiring")
    await metrics.item("item-00000001", "Join our plant", campaign)
    await metrics.item("item-00000002", "Open house", campaign)
    advocate = new_id("adv")
    a = metrics.share(advocate, "item-00000001", "linkedin", campaign)
    b = metrics.share(advocate, "item-00000002", "x", campaign)
    elsewhere = metrics.share(advocate, "item-00000003", "x")  # not in the campaign
    clicks = [metrics.click(a, "v1"), metrics.click(a, "v2"), metrics.click(a, "v3", at=DAY + timedelta(days=1)),
              metrics.click(b, "v1"), metrics.click(a, "bot", bot=True), metrics.click(elsewhere, "v9")]
    await metrics.send_to(metrics.topics.distribution_events, a, b, elsewhere, *clicks)
    # linkedin: 2000 impressions, 10 reactions, 2 comments; x: 1000 impressions, 4 reshares
    await metrics.send_to(metrics.topics.engagement, metrics.observed(a, impressions=2000, reactions=10, comments=2),
                   metrics.observed(b, impressions=1000, reshares=4))
    await metrics.drained(metrics.topics.distribution_events, metrics.topics.engagement, metrics.topics.curation_events)

    answer = await metrics.render(report_command(new_id("rep"), campaign_id=campaign))
    assert answer["type"] == "advocacy.metrics.report.rendered.v1", answer
    html = open(answer["data"]["html_path"]).read()
    data = json.loads(open(answer["data"]["json_path"]).read())

    assert bars(html, "clicks-over-time") == [("2026-03-02", 3.0), ("2026-03-03", 1.0)]
    assert bars(html, "clicks-by-network") == [("linkedin", 3.0), ("x", 1.0)]
    assert bars(html, "top-items") == [("Join our plant", 3.0), ("Open house", 1.0)]
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    # EMV by hand, EUR rates: linkedin 2000/1000×8.00 + 3×1.20 + 12×0.50 = 25.60;
    #                          x        1000/1000×4.00 + 1×0.60 + 4×0.20  =  5.40
    assert data["totals"]["emv"] == 31.00 and data["totals"]["currency"] == "EUR"
    assert data["rates"]["rates"]["linkedin"] == {"cpm": 8.0, "cpc": 1.2, "cpe": 0.5}
    assert "Campaign: Spring hiring" in html and "31.00 EUR" in html and "cpm" in html


async def test_snapshots_are_published_per_item_and_campaign_when_figures_change(metrics):
    campaign = new_id("camp")
    share = metrics.share(new_id("adv"), "item-00000007", "linkedin", campaign)
    await metrics.send_to(metrics.topics.distribution_events, share, metrics.click(share), metrics.click(share, "v2"))

    snapshots = await metrics.events(lambda e: e["type"] == "advocacy.metrics.snapshot.v1", at_least=2)
    latest = {(s["data"]["scope"], s["data"]["id"]): s["data"]["figures"] for s in snapshots}
    assert latest[("item", "item-00000007")]["clicks"] == 2
    assert latest[("campaign", campaign)]["shares"] == 1
