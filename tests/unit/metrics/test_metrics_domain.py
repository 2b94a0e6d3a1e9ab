"""The counting rules: EMV and engagement rate, keep-the-highest merging, a batch's tally,
the rates file; which report periods and currencies are accepted, and who may see their
impact and the leaderboard."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from schemas.commands import Rejected
from schemas.distribution import Click, LinkClicked, Share, ShareCreated
from schemas.engagement import Engagement, EngagementObserved
from services.metrics import domain
from services.metrics.config import MetricsSettings
from services.metrics.domain import (
    Rate,
    RateCard,
    RateCards,
    Totals,
    aligned_period,
    check_may_see_impact,
    check_may_see_leaderboard,
    check_period,
    emv,
    engagement_rate,
    keep_highest,
    rate_card,
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


def test_the_rates_file_has_the_default_currency_for_every_network_and_k_defaults_to_5():
    cards = MetricsSettings().rate_cards()
    card = cards.card()
    assert card.currency == "EUR"
    assert set(card.rates) == {"linkedin", "x", "xing", "facebook", "instagram", "mastodon", "bluesky"}
    assert cards.card("CHF").rates["linkedin"] == Rate(cpm=7.5, cpc=1.15, cpe=0.45)
    assert MetricsSettings().k_anonymity == 5


@pytest.mark.parametrize("starts_on, ends_on", [
    (date(2026, 3, 2), date(2026, 3, 1)),
    (date(2025, 1, 1), date(2026, 1, 2)),  # 367 days
    (date(9999, 12, 30), date(9999, 12, 31)),  # its whole week would end after the last date there is
])
def test_a_period_ending_before_its_start_or_spanning_over_366_days_is_rejected(starts_on, ends_on):
    with pytest.raises(Rejected) as rejected:
        check_period(starts_on, ends_on)
    assert rejected.value.reason == "invalid_period"


def test_a_one_day_period_and_a_366_day_period_are_accepted():
    check_period(date(2026, 3, 1), date(2026, 3, 1))
    check_period(date(2025, 1, 1), date(2026, 1, 1))
    assert aligned_period(date(9999, 12, 20), date(9999, 12, 26)) == (date(9999, 12, 20), date(9999, 12, 26))
    check_period(date(9999, 12, 20), date(9999, 12, 26))


def test_a_report_uses_the_named_currencys_rates_or_the_default_and_refuses_one_without_rates():
    assert rate_card(CARDS, "CHF").currency == "CHF"
    assert rate_card(CARDS, None).currency == "EUR"
    with pytest.raises(Rejected) as rejected:
        rate_card(CARDS, "USD")
    assert rejected.value.reason == "unknown_currency"


def test_my_impact_is_shown_only_with_share_attribution():
    check_may_see_impact({"share_attribution"})
    for consents in (set(), {"leaderboard", "network_reach"}):
        with pytest.raises(Rejected) as rejected:
            check_may_see_impact(consents)
        assert rejected.value.reason == "attribution_not_consented"


def test_the_leaderboard_is_shown_only_to_those_who_allow_both_leaderboard_and_share_attribution():
    check_may_see_leaderboard({"leaderboard", "share_attribution", "network_reach"})
    for consents in (set(), {"leaderboard"}, {"share_attribution"}):
        with pytest.raises(Rejected) as rejected:
            check_may_see_leaderboard(consents)
        assert rejected.value.reason == "leaderboard_not_consented"


def test_a_batch_is_tallied_into_clicks_per_share_day_visitor_and_bot_and_each_counters_highest():
    """A visitor's machine request (a prefetch, a HEAD) is counted apart from their click."""
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    share_id = "share-0001"
    share = Share(share_id=share_id, advocate_id="adv-0001", item_id="item-0001", campaign_id=None, network="linkedin",
                  text="Our new plant", tracked_url="https://go.example/r/abc", created_at=at)

    def click(visitor: str, bot: bool = False, minutes: int = 5) -> LinkClicked:
        return LinkClicked(source="/d", subject=share_id, data=Click(
            share_id=share_id, item_id="item-0001", campaign_id=None, network="linkedin", visitor=visitor, bot=bot,
            clicked_at=at + timedelta(minutes=minutes)))

    def observed(impressions: int, reactions: int, hours: int) -> EngagementObserved:
        return EngagementObserved(source="/c", subject=share_id, data=Engagement(
            share_id=share_id, network="linkedin", impressions=impressions, reactions=reactions,
            observed_at=at + timedelta(hours=hours)))

    events = [ShareCreated(source="/d", subject=share_id, data=share), click("a" * 64), observed(100, 1, 2),
              click("a" * 64, bot=True), click("b" * 64), observed(90, 4, 3), click("a" * 64, minutes=60 * 24),
              click("c" * 64, bot=True, minutes=60 * 24), click("c" * 64, bot=True, minutes=60 * 25)]
    result = domain.tally(events)
    assert sorted(result.clicks) == sorted([
        domain.Clicks(share_id, at.date(), "a" * 64, False, 1, 1), domain.Clicks(share_id, at.date(), "b" * 64, False, 1, 0),
        domain.Clicks(share_id, at.date() + timedelta(days=1), "a" * 64, False, 1, 0),
        domain.Clicks(share_id, at.date() + timedelta(days=1), "c" * 64, True, 0, 2)])
    assert result.observations == [domain.Observation(share_id, 100, 4, 0, 0, at + timedelta(hours=3))]


def test_clicks_and_shares_count_on_their_utc_day_whatever_offset_they_were_sent_with():
    share_id = "share-0001"
    kiribati, samoa = timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))
    created = datetime(2026, 3, 3, 0, 30, tzinfo=kiribati)  # 2 March, 10:30 UTC
    share = Share(share_id=share_id, advocate_id="adv-0001", item_id="item-0001", campaign_id=None, network="linkedin",
                  text="Our new plant", tracked_url="https://go.example/r/abc", created_at=created)

    def click(at: datetime) -> LinkClicked:
        return LinkClicked(source="/d", subject=share_id, data=Click(
            share_id=share_id, item_id="item-0001", network="linkedin", visitor="a" * 64, bot=False, clicked_at=at))

    result = domain.tally([ShareCreated(source="/d", subject=share_id, data=share),
                           click(datetime(2026, 3, 2, 10, 30, tzinfo=UTC)), click(created),  # one instant, twice
                           click(datetime(2026, 3, 2, 23, 30, tzinfo=samoa))])  # 3 March, 11:30 UTC
    assert result.shares[0].day == date(2026, 3, 2)
    assert sorted(result.clicks) == [domain.Clicks(share_id, date(2026, 3, 2), "a" * 64, False, 2, 0),
                                     domain.Clicks(share_id, date(2026, 3, 3), "a" * 64, False, 1, 0)]
