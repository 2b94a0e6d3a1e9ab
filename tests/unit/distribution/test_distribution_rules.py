"""Who may share what, how, and when digests are due."""

from datetime import UTC, datetime, timedelta

import pytest

from schemas.directory import Digest, Network
from services.distribution.domain import ItemView, check_share, next_digest, share_text
from schemas.commands import Rejected

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
    assert reason(scheduled_at=NOW + timedelta(hours=1)) == "scheduled_sharing_not_consented"
    assert reason(scheduled_at=NOW - timedelta(seconds=1), may_schedule=True) == "scheduled_in_the_past"


def test_a_valid_request_passes():
    check_share(ITEM, True, Network.X, "x" * 280, NOW + timedelta(hours=1), True, NOW)


def test_the_suggested_text_is_used_unless_the_item_allows_editing():
    assert share_text(ITEM, Network.X, None) == "Short"
    assert share_text(ITEM, Network.LINKEDIN, None) == "Title"
    with pytest.raises(Rejected, match="text_not_editable"):
        share_text(ITEM, Network.X, "mine")
    assert share_text(ItemView(**{**ITEM.__dict__, "editable": True}), Network.X, "mine") == "mine"


def test_digests_fall_due_at_the_next_digest_hour_and_weekly_on_monday():
    assert next_digest(Digest.DAILY, NOW, 8) == datetime(2026, 11, 28, 8, tzinfo=UTC)
    assert next_digest(Digest.DAILY, NOW.replace(hour=7), 8) == datetime(2026, 11, 27, 8, tzinfo=UTC)
    assert next_digest(Digest.WEEKLY, NOW, 8) == datetime(2026, 11, 30, 8, tzinfo=UTC)
