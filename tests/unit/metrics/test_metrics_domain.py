"""The counting rules: EMV and engagement rate, keep-the-highest merging, k-suppression,
the rates file, and which report periods are accepted."""

from datetime import date

import pytest

from schemas.commands import Rejected
from schemas.metrics import ReportRequest
from services.metrics.config import MetricsSettings
from services.metrics.domain import (
    Rate,
    RateCard,
    RateCards,
    Totals,
    check_period,
    emv,
    engagement_rate,
    keep_highest,
    suppress_small_groups,
)

CARD = RateCard("EUR", {"linkedin": Rate(cpm=8.0, cpc=1.2, cpe=0.5), "x": Rate(cpm=4.0, cpc=0.6, cpe=0.2)})
CARDS = RateCards("EUR", {"EUR": CARD, "CHF": RateCard("CHF", {})})


def test_emv_applies_each_networks_rates_to_its_own_figures():
    linkedin = Totals(impressions=2000, clicks=3, reactions=10, comments=2)
    x = Totals(impressions=1000, clicks=1, reshares=4)
    # 2000/1000×8 + 3×1.2 + 12×0.5 = 25.60 ; 1000/1000×4 + 1×0.6 + 4×0.2 = 5.40
    assert emv({"linkedin": linkedin, "x": x}, CARD) == 31.00


def test_a_network_without_rates_adds_no_value():
    assert emv({"mastodon": Totals(impressions=10_000, clicks=50)}, CARD) == 0.0


def test_engagement_rate_counts_interactions_and_clicks_per_impression():
    assert engagement_rate(Totals(impressions=400, clicks=6, reactions=10, comments=3, reshares=1)) == 0.05
    assert engagement_rate(Totals(clicks=5)) == 0.0  # no impressions reported: no rate


def test_cumulative_counters_keep_the_highest_of_each_whatever_the_order():
    merged = keep_highest([("s1", [100, 3, 0, 2]), ("s1", [250, 7, 1, 0]), ("s1", [180, 9, 0, 0]),
                           ("s2", [5, 0, 0, 0]), ("s1", [250, 7, 1, 0])])
    assert merged == {"s1": [250, 9, 1, 2], "s2": [5, 0, 0, 0]}


def test_groups_below_k_contributors_vanish():
    groups = [{"org_unit": "Sales", "contributors": 5}, {"org_unit": "Legal", "contributors": 4}]
    assert [g["org_unit"] for g in suppress_small_groups(groups, k=5)] == ["Sales"]
    assert suppress_small_groups(groups, k=6) == []


def test_the_rates_file_has_the_default_currency_for_every_network_and_k_defaults_to_5():
    cards = MetricsSettings().rate_cards()
    card = cards.card()
    assert card.currency == "EUR"
    assert set(card.rates) == {"linkedin", "x", "xing", "facebook", "instagram", "mastodon", "bluesky"}
    assert cards.card("CHF").rates["linkedin"] == Rate(cpm=7.5, cpc=1.15, cpe=0.45)
    assert MetricsSettings().k_anonymity == 5


def period(starts_on: date, ends_on: date, currency: str | None = None) -> ReportRequest:
    return ReportRequest(actor="editor-1", report_id="report-0001", starts_on=starts_on, ends_on=ends_on,
                         currency=currency)


@pytest.mark.parametrize("starts_on, ends_on, currency, reason", [
    (date(2026, 3, 2), date(2026, 3, 1), None, "invalid_period"),
    (date(2025, 1, 1), date(2026, 1, 2), None, "invalid_period"),  # 367 days
    (date(2026, 3, 1), date(2026, 3, 31), "USD", "unknown_currency"),
])
def test_a_period_that_cannot_be_reported_is_rejected_with_its_reason(starts_on, ends_on, currency, reason):
    with pytest.raises(Rejected) as rejected:
        check_period(period(starts_on, ends_on, currency), CARDS)
    assert rejected.value.reason == reason


def test_a_one_day_period_in_a_known_currency_is_accepted():
    check_period(period(date(2026, 3, 1), date(2026, 3, 1), "CHF"), CARDS)
