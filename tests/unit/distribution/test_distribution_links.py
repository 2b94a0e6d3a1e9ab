"""Tracked links: codes nobody can guess, UTM tags that leave the item's own query as it
was, ASCII targets, share intents, visitors without addresses."""

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.directory import Network
from schemas.networks import TRACKED_CODE_CHARS
from schemas.urls import to_ascii, with_tracking, without_tracking
from services.distribution import links

UTM = "utm_source=x&utm_medium=employee_advocacy&utm_campaign=none&utm_content=item-1"


def test_codes_carry_96_random_bits_and_do_not_repeat():
    codes = {links.new_code() for _ in range(10_000)}
    assert len(codes) == 10_000
    assert all(len(c) == TRACKED_CODE_CHARS and links.CODE.fullmatch(c) for c in codes)


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


@pytest.mark.parametrize("network", list(Network))
def test_an_intent_is_said_to_carry_the_text_exactly_when_its_url_holds_the_post(network):
    post = "Unmistakable words\n#employee\nhttps://go.example/r/abc"
    intent = links.share_intent_url(network, "https://go.example/r/abc", post)
    assert links.has_share_intent(network) == (intent is not None)
    assert links.intent_carries_text(network) == (intent is not None and "Unmistakable%20words" in intent)
    assert links.intent_carries_text(network) == (network in (Network.X, Network.BLUESKY))


@pytest.mark.parametrize(("url", "expected"), [
    ("https://example.com/?abc#123", f"https://example.com/?abc&{UTM}#123"),
    ("https://example.com/?color=red&color=blue&sale", f"https://example.com/?color=red&color=blue&sale&{UTM}"),
    ("https://example.com/a?utm_source=mail&x=1&UTM_Campaign=old&utm%5Fcontent=z", f"https://example.com/a?x=1&{UTM}"),
    ("https://example.com/a?q=caf%C3%A9+au+lait&r=a%2Bb", f"https://example.com/a?q=caf%C3%A9+au+lait&r=a%2Bb&{UTM}"),
    ("https://example.com/a?q=caf%E9", f"https://example.com/a?q=caf%E9&{UTM}"),  # Latin-1 escapes stay too
    ("https://example.com/a?a=1;b=2&&c", f"https://example.com/a?a=1;b=2&c&{UTM}"),
    ("https://example.com/a", f"https://example.com/a?{UTM}"),
    ("https://example.com/a#frag?not=query", f"https://example.com/a?{UTM}#frag?not=query"),
])
def test_utm_tags_are_appended_without_touching_the_items_own_query_and_the_fragment_stays_last(url, expected):
    assert links.redirect_target(url, Network.X, None, "item-1") == expected


@given(st.lists(st.from_regex(r"[a-z]{1,5}(=[a-zA-Z0-9%+._~-]{0,8})?", fullmatch=True), max_size=6))
def test_the_original_query_goes_out_byte_for_byte_before_our_tags(pairs):
    query = "&".join(pairs)
    target = with_tracking(f"https://example.com/p?{query}", {"utm_source": "x"})
    assert target == f"https://example.com/p?{query + '&' if query else ''}utm_source=x"


def test_an_idn_host_and_a_non_ascii_path_go_out_in_ascii():
    target = links.redirect_target("https://bücher.example/straße/café?seite=1", Network.X, None, "item-1")
    assert target == f"https://xn--bcher-kva.example/stra%C3%9Fe/caf%C3%A9?seite=1&{UTM}"
    assert target.isascii()
    assert to_ascii("https://例え.テスト/パス?q=値#節") == (
        "https://xn--r8jz45g.xn--zckzah/%E3%83%91%E3%82%B9?q=%E5%80%A4#%E7%AF%80")
    assert to_ascii("https://example.com/a%20b?x=%C3%A9") == "https://example.com/a%20b?x=%C3%A9"  # unchanged


def test_a_host_idna_refuses_is_an_error_not_a_mangled_link():
    with pytest.raises(ValueError):
        links.redirect_target("https://💩.la/", Network.X, None, "item-1")


def test_the_same_article_with_utm_tags_or_a_fragment_is_one_url():
    assert without_tracking("https://example.com/a?x=1&utm_source=tw#top") == "https://example.com/a?x=1"
    assert without_tracking("https://example.com/a?utm_medium=social") == "https://example.com/a"
    assert without_tracking("https://example.com/a?b=2&a=1") == "https://example.com/a?b=2&a=1"  # order is meaning


@pytest.mark.parametrize("path", ["abc\x00defghijklmnop", "abcdefgh\r\nLocation: x", "../../etc/passwd", "a" * 65,
                                  "short", "abcdefghijklmnop.html", "abcdefgh ijklmnop"])
def test_what_cannot_be_a_code_is_not_looked_up(path):
    assert not links.CODE.fullmatch(path)


def test_a_visitor_hash_is_stable_within_a_day_and_share_and_unrelated_elsewhere():
    today, tomorrow = links.day_key("secret", b"\x01" * 32), links.day_key("secret", b"\x02" * 32)
    first = links.visitor_hash(today, "shr-1", "203.0.113.7", "Firefox")
    assert first == links.visitor_hash(today, "shr-1", "203.0.113.7", "Firefox")
    assert first != links.visitor_hash(tomorrow, "shr-1", "203.0.113.7", "Firefox")  # another day's salt
    assert first != links.visitor_hash(today, "shr-2", "203.0.113.7", "Firefox")  # another share
    assert first != links.visitor_hash(today, "shr-1", "203.0.113.8", "Firefox")
    assert first != links.visitor_hash(today, "shr-1", "203.0.113.7", None)
    assert "203.0.113.7" not in first and len(first) == 32


def test_a_days_key_needs_both_the_salt_and_the_click_secret():
    salt = b"\x01" * 32
    assert links.day_key("secret", salt) == links.day_key("secret", salt)
    assert links.day_key("other secret", salt) != links.day_key("secret", salt)
    assert links.day_key("secret", b"\x02" * 32) != links.day_key("secret", salt)

