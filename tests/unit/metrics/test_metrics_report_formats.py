"""A report's formats: the CSV holds a row per group with the figures of the JSON and keeps
formulas from running; the format is `format=` if given, else the Accept header's best."""

import csv
import io
from datetime import UTC, datetime

import pytest

from services.metrics.api import Format, negotiate
from services.metrics.domain import RateCard, Totals, figures
from services.metrics.reports import CSV_COLUMNS, render_csv, render_html
from services.runtime.api import HttpProblem

CARD = RateCard("EUR", {})


def report(**groups) -> dict:
    totals = figures({"x": Totals(shares=3, clicks=5, impressions=400, reactions=10)}, CARD)
    return {"title": "Advocacy report", "as_of": datetime(2026, 3, 31, 18, 5, tzinfo=UTC),
            "scope": {"starts_on": "2026-03-01", "ends_on": "2026-03-31", "campaign_id": None},
            "totals": totals, "clicks_by_day": [{"day": "2026-03-02", "clicks": 5}],
            "by_network": [{"network": "x", **totals}], "by_topic": [],
            "top_items": [{"item_id": "item-00000001", "title": "@SUM(A1:A9)", **totals}],
            "rates": CARD.as_dict(), **groups}


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_has_a_header_and_one_row_per_group_and_day():
    text = render_csv(report(by_org_unit=[{"org_unit": "Sales", **figures({}, CARD)}]))
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS) and text.endswith("\r\n")
    assert [(r["dimension"], r["group"]) for r in rows(text)] == [
        ("total", ""), ("network", "x"), ("org_unit", "Sales"), ("item", "item-00000001"), ("click_day", "2026-03-02")]


def test_the_csv_carries_the_jsons_figures_and_leaves_clicks_by_day_without_share_figures():
    total, *_, day = rows(render_csv(report()))
    assert (total["shares"], total["clicks"], total["engagement_rate"], total["emv"], total["currency"]) == (
        "3", "5", "0.0375", "0.00", "EUR")
    assert (day["clicks"], day["shares"], day["emv"]) == ("5", "", "")


def test_a_small_rate_is_written_in_fixed_point_not_in_exponent_notation():
    data = report()
    data["totals"]["engagement_rate"] = 3e-05
    [total] = [r for r in rows(render_csv(data)) if r["dimension"] == "total"]
    assert total["engagement_rate"] == "0.00003"


@pytest.mark.parametrize("title", ["=1+1", "+1", "-1", "@SUM(A1:A9)", "\tx", "\rx"])
def test_a_text_cell_a_spreadsheet_would_run_as_a_formula_is_kept_as_text(title):
    data = report()
    data["top_items"][0]["title"] = title
    [item] = [r for r in rows(render_csv(data)) if r["dimension"] == "item"]
    assert item["title"] == f"'{title}"


def test_the_html_says_until_when_and_holds_no_section_a_report_lacks():
    html = render_html(report())
    assert "until 2026-03-31 18:05 UTC" in html
    assert "By org unit" not in html and "not shown" not in html
    assert "By org unit" in render_html(report(by_org_unit=[], by_location=[], k_anonymity=5, closed_through="2026-03-29"))


@pytest.mark.parametrize("format, accept, expected", [
    (Format.CSV, "text/html", Format.CSV),  # format= wins
    (None, None, Format.JSON),
    (None, "", Format.JSON),
    (None, "*/*", Format.JSON),  # a tie goes to JSON
    (None, "text/*", Format.HTML),
    (None, "text/csv", Format.CSV),
    (None, "text/html;q=0.4, text/csv;q=0.6", Format.CSV),
    (None, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", Format.HTML),
    (None, "application/json;q=0, */*", Format.HTML),  # q=0: not that one
    (None, "garbage", Format.JSON),  # unparseable: disregarded (RFC 9110 §12.5.1)
])
def test_the_format_is_format_if_given_else_the_best_match_of_the_accept_header(format, accept, expected):
    assert negotiate(format, accept) is expected


def test_an_accept_header_allowing_none_of_the_formats_is_not_acceptable():
    with pytest.raises(HttpProblem) as problem:
        negotiate(None, "application/pdf, image/*")
    assert (problem.value.status_code, problem.value.reason) == (406, "not_acceptable")


def test_withheld_totals_show_as_withheld_in_html_and_as_an_empty_row_in_csv():
    data = report(by_org_unit=[], by_location=[], k_anonymity=5, closed_through="2026-03-29")
    data["totals"] = None
    html = render_html(data)
    assert "withheld" in html and "Counted: whole weeks up to 2026-03-29" in html
    [total] = [r for r in rows(render_csv(data)) if r["dimension"] == "total"]
    assert (total["shares"], total["clicks"], total["emv"]) == ("", "", "")
