"""Who may share what, how, what a feed suggests, which share may be cancelled, and when
digests are due."""

from datetime import UTC, datetime, timedelta

import pytest

from schemas.commands import Rejected
from schemas.directory import Digest, Network
from schemas.networks import weighted_length
from services.distribution.domain import (
    ItemView,
    ShareStatus,
    check_cancel,
    check_share,
    feed_networks,
    item_in_feed,
    next_digest,
    post_lengths,
    share_text,
    suggested_posts,
)

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday
ITEM = ItemView(item_id="item-1", status="active", source_url="https://example.org", campaign_id=None,
                disclosure="#employee", share_texts={"x": "Short"}, title="Title", editable=False)


def reason(**overrides) -> str:
    args = {"item": ITEM, "in_feed": True, "network": Network.X, "post": "ok", "scheduled_at": None,
            "may_schedule": False, "now": NOW, **overrides}
    with pytest.raises(Rejected) as rejected:
        check_share(**args)
    return rejected.value.reason


def test_each_rule_has_its_reason():
    assert reason(item=None) == "item_not_in_feed"
    assert reason(in_feed=False) == "item_not_in_feed"
    assert reason(item=ItemView(**{**ITEM.__dict__, "status": "retracted"})) == "item_not_active"
    assert reason(post="x" * 281) == "text_too_long"
    assert reason(post="\ufeffhidden") == "text_invalid_characters"  # X refuses U+FEFF
    assert reason(scheduled_at=NOW + timedelta(hours=1)) == "scheduled_sharing_not_consented"
    assert reason(scheduled_at=NOW - timedelta(seconds=1), may_schedule=True) == "scheduled_in_the_past"


def test_an_item_not_in_the_feed_is_refused_before_anything_is_said_of_it():
    locked = ItemView(**{**ITEM.__dict__, "status": "retracted", "editable": False})
    for item in (None, locked):
        with pytest.raises(Rejected, match="item_not_in_feed"):
            item_in_feed(item, in_feed=False)
    assert item_in_feed(locked, in_feed=True) is locked  # in the feed: the other rules speak


def test_a_valid_request_passes():
    check_share(ITEM, True, Network.X, "x" * 280, NOW + timedelta(hours=1), True, NOW)


def test_the_suggested_text_is_used_unless_the_item_allows_editing():
    assert share_text(ITEM, Network.X, None) == "Short"
    assert share_text(ITEM, Network.LINKEDIN, None) == "Title"
    with pytest.raises(Rejected, match="text_not_editable"):
        share_text(ITEM, Network.X, "mine")
    assert share_text(ItemView(**{**ITEM.__dict__, "editable": True}), Network.X, "mine") == "mine"
    with pytest.raises(Rejected, match="text_invalid_characters"):  # nobody posts a NUL; Postgres keeps none
        share_text(ItemView(**{**ITEM.__dict__, "editable": True}), Network.LINKEDIN, "a\x00b")
    for blank in ("", " \n\t", "\u202e\u200b   "):  # not "no text": that is leaving it out, for the suggestion
        with pytest.raises(Rejected, match="text_empty"):
            share_text(ItemView(**{**ITEM.__dict__, "editable": True}), Network.X, blank)


def test_digests_fall_due_at_the_next_digest_hour_and_weekly_on_monday():
    assert next_digest(Digest.DAILY, NOW, 8) == datetime(2026, 11, 28, 8, tzinfo=UTC)
    assert next_digest(Digest.DAILY, NOW.replace(hour=7), 8) == datetime(2026, 11, 27, 8, tzinfo=UTC)
    assert next_digest(Digest.WEEKLY, NOW, 8) == datetime(2026, 11, 30, 8, tzinfo=UTC)


LINK = "https://go.example.com/r/xxxxxxxxxxxxxxxx"  # a TLD twitter-text knows: X counts it 23


def test_only_a_scheduled_share_can_be_cancelled_and_an_unknown_one_is_unknown():
    check_cancel(ShareStatus.SCHEDULED)
    with pytest.raises(Rejected, match="unknown_share"):
        check_cancel(None)
    for status in set(ShareStatus) - {ShareStatus.SCHEDULED}:
        with pytest.raises(Rejected, match="share_not_scheduled"):
            check_cancel(status)


def test_a_suggested_post_is_text_disclosure_and_link_counted_as_its_network_counts():
    item = ItemView(**{**ITEM.__dict__, "share_texts": {"x": "工場 opens"}})
    x, linkedin = suggested_posts(item, [Network.X, Network.LINKEDIN], LINK)
    assert (x.text, x.post) == ("工場 opens", f"工場 opens\n#employee\n{LINK}")
    assert x.length == weighted_length(Network.X, x.post) == len(x.post) - len(LINK) + 23 + 2  # link 23, CJK 2 each
    assert (x.max_length, linkedin.max_length) == (280, 3000) and x.fits
    assert (linkedin.text, linkedin.length) == ("Title", len(f"Title\n#employee\n{LINK}"))


def test_lengths_counted_once_are_taken_as_they_are_and_what_they_lack_is_counted():
    counted = post_lengths(ITEM, LINK)
    assert set(counted) == {n.value for n in Network}
    assert [p.length for p in suggested_posts(ITEM, list(Network), LINK, counted)] == [
        p.length for p in suggested_posts(ITEM, list(Network), LINK)]
    [x] = suggested_posts(ITEM, [Network.X], LINK, {"x": 999})
    assert x.length == 999 and not x.fits
    [bluesky] = suggested_posts(ITEM, [Network.BLUESKY], LINK, {"x": 999})
    assert bluesky.length == weighted_length(Network.BLUESKY, bluesky.post)


def test_a_feed_suggests_the_networks_a_person_named_in_their_order_else_all():
    assert feed_networks(["x", "linkedin", "x"]) == [Network.X, Network.LINKEDIN]
    assert feed_networks([]) == list(Network)
    assert feed_networks(["myspace"]) == list(Network)  # none we know
    assert feed_networks(["myspace", "bluesky"]) == [Network.BLUESKY]
