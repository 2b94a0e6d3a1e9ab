"""Tracked links: codes nobody can guess, UTM tags, share intents, visitors without addresses."""

from datetime import date
from urllib.parse import parse_qs, urlsplit

from schemas.directory import Network
from services.distribution import links


def test_codes_carry_96_random_bits_and_do_not_repeat():
    codes = {links.new_code() for _ in range(10_000)}
    assert len(codes) == 10_000
    assert all(len(c) == 16 and c.replace("-", "").replace("_", "").isalnum() for c in codes)


def test_the_target_keeps_the_items_query_and_sets_every_utm_tag():
    target = links.redirect_target("https://example.org/a?x=1&utm_source=mail", Network.XING, None, "item-1")
    parts = urlsplit(target)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "example.org", "/a")
    assert parse_qs(parts.query) == {"x": ["1"], "utm_source": ["xing"], "utm_medium": ["employee_advocacy"],
                                     "utm_campaign": ["none"], "utm_content": ["item-1"]}


def test_share_intents_exist_where_a_network_has_a_web_composer():
    url = "https://go.example/r/abc"
    assert links.share_intent_url(Network.LINKEDIN, url, "hi") == \
        "https://www.linkedin.com/sharing/share-offsite/?url=https%3A%2F%2Fgo.example%2Fr%2Fabc"
    assert links.share_intent_url(Network.BLUESKY, url, "a b") == "https://bsky.app/intent/compose?text=a%20b"
    assert links.share_intent_url(Network.INSTAGRAM, url, "hi") is None


def test_obvious_bots_are_flagged_and_browsers_are_not():
    assert links.is_bot(None) and links.is_bot("") and links.is_bot("curl/8.5.0")
    assert links.is_bot("LinkedInBot/1.0 (compatible; Mozilla/5.0)")
    assert links.is_bot("facebookexternalhit/1.1")
    assert not links.is_bot("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15")


def test_a_visitor_hash_is_stable_within_a_day_changes_the_next_and_hides_the_address():
    today, tomorrow = date(2026, 11, 27), date(2026, 11, 28)
    first = links.visitor_hash("secret", today, "203.0.113.7", "Firefox")
    assert first == links.visitor_hash("secret", today, "203.0.113.7", "Firefox")
    assert first != links.visitor_hash("secret", tomorrow, "203.0.113.7", "Firefox")
    assert first != links.visitor_hash("other secret", today, "203.0.113.7", "Firefox")
    assert "203.0.113.7" not in first and len(first) == 32
