"""Who follows a tracked link: people count as clicks; bots, link-preview fetchers, HEAD
and prefetch requests do not, and no phone is taken for a bot. The visitor's address is
read from X-Forwarded-For the way proxies append to it."""

import pytest
from crawlerdetect import CrawlerDetect
from hypothesis import given, settings
from hypothesis import strategies as st

from services.distribution import visitors
from services.distribution.visitors import (
    MAX_USER_AGENT_CHARS,
    client_address,
    is_bot,
    is_human_click,
    trusted_networks,
)

PHONES_AND_BROWSERS = [
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile "
    "Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
    "Mobile/15E148 Safari/604.1",
    # Phones whose model names carry "bot": Honor, Tecno, Logicom, Cubot.
    "Mozilla/5.0 (Linux; Android 10; BOT-AL00) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 12; TECNO Spark Go 2023 BOT) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 6.0; M BOT 551 Build/MRA58K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/54.0.2840.85 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; U; Android 5.1; en-us; CUBOT_NOTE_S Build/LMY47I) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/39.0.0.0 Mobile Safari/537.36",
    # In-app browsers of the networks themselves: a person tapping the link.
    "Mozilla/5.0 (Linux; Android 11; Redmi Note 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Mobile "
    "Safari/537.36 Instagram 300.0.0.0 Android",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
    "LinkedInApp/9.29",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
    "Safari/537.36 Edg/126.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
]

MACHINES = [
    "Mastodon/4.2.1 (http.rb/5.1.1; +https://social.example/)",
    "http.rb/5.1.1 (Mastodon/4.3.0; +https://mastodon.example/)",
    "Go-http-client/1.1",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
    "Akkoma 3.10.0; https://akkoma.example <admin@akkoma.example>",
    "Misskey/2024.5.0 (https://misskey.example)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Twitterbot/1.0",
    "XING-contenttabreceiver/2.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/114.0.5735.179 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.5.0", "python-requests/2.31.0", "", "   ", None,
]


@pytest.mark.parametrize("agent", PHONES_AND_BROWSERS)
def test_phones_and_browsers_are_never_taken_for_bots(agent):
    assert not is_bot(agent)
    assert is_human_click("GET", {"user-agent": agent})


@pytest.mark.parametrize("agent", MACHINES)
def test_link_preview_fetchers_http_libraries_and_crawlers_are_bots(agent):
    assert is_bot(agent)
    assert not is_human_click("GET", {"user-agent": agent} if agent is not None else {})


def test_a_user_agent_longer_than_any_browsers_is_a_machine_and_never_matched(monkeypatch):
    """Matched with crawlerdetect's own `re`, one request with a 60,000-character agent held the
    whole service for nine minutes (its consumers were thrown out of their groups)."""
    def refusing(agent: str) -> bool:
        raise AssertionError(f"matched an agent of {len(agent)} characters")

    monkeypatch.setattr(visitors, "is_crawler", refusing)
    browser = PHONES_AND_BROWSERS[0]
    assert is_bot(browser + " " + "A" * 60_000)
    assert is_bot(browser + " " * (MAX_USER_AGENT_CHARS + 1 - len(browser)))


def test_a_browsers_agent_up_to_the_limit_is_still_a_persons():
    browser = PHONES_AND_BROWSERS[-1]
    padded = browser + " FBAN/FBIOS;FBAV/437.0.0.33.118;FBBV/" + "1" * (MAX_USER_AGENT_CHARS - len(browser) - 37)
    assert len(padded) == MAX_USER_AGENT_CHARS and not is_bot(padded)


@pytest.mark.parametrize("headers", [
    {"sec-purpose": "prefetch"}, {"sec-purpose": "prefetch;prerender"}, {"purpose": "prefetch"},
    {"x-purpose": "preview"}, {"x-moz": "prefetch"},
])
def test_a_prefetch_is_not_a_click(headers):
    assert not is_human_click("GET", {"user-agent": PHONES_AND_BROWSERS[0], **headers})


def test_a_head_request_is_not_a_click():
    assert not is_human_click("HEAD", {"user-agent": PHONES_AND_BROWSERS[0]})


TRUSTED = trusted_networks(["127.0.0.1", "::1", "10.0.0.0/8"])


@pytest.mark.parametrize(("peer", "forwarded", "visitor"), [
    ("127.0.0.1", ["203.0.113.7"], "203.0.113.7"),  # one proxy
    ("127.0.0.1", ["203.0.113.7, 10.0.0.2"], "203.0.113.7"),  # two of ours
    ("127.0.0.1", ["198.51.100.66, 203.0.113.7"], "203.0.113.7"),  # the left one was written by the visitor
    ("127.0.0.1", ["198.51.100.66", "203.0.113.7, 10.0.0.9"], "203.0.113.7"),  # several header lines, one list
    ("127.0.0.1", ["2001:db8::7"], "2001:db8::7"),
    ("127.0.0.1", ["not-an-address, 10.0.0.2"], "not-an-address"),  # what our proxy reports, as it is
    ("127.0.0.1", ["10.0.0.2, 10.0.0.3"], "10.0.0.2"),  # every hop ours: the first one
    ("127.0.0.1", [], "127.0.0.1"),
    ("127.0.0.1", [" , "], "127.0.0.1"),
    ("203.0.113.50", ["198.51.100.66"], "203.0.113.50"),  # an untrusted peer names nobody
])
def test_the_visitor_is_the_first_address_from_the_right_that_no_trusted_proxy_vouches_beyond(peer, forwarded, visitor):
    assert client_address(peer, forwarded, TRUSTED) == visitor


def test_trusted_proxies_may_be_addresses_or_ranges_and_anything_else_is_an_error():
    assert [str(n) for n in trusted_networks(["10.1.2.3", "fd00::/8", " "])] == ["10.1.2.3/32", "fd00::/8"]
    with pytest.raises(ValueError):
        trusted_networks(["proxy.internal"])


KNOWN_CRAWLERS = ["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "curl/8.5.0",
                  "python-requests/2.32.3", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
                  "Mozilla/5.0 (compatible; YandexSearch/1.0)", "Mozilla/5.0 (Linux; Android 14) YandexSearch/24.1",
                  "Wget/1.21.4", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"]


@pytest.mark.parametrize("agent", [a for a in PHONES_AND_BROWSERS + MACHINES + KNOWN_CRAWLERS if a])
def test_the_linear_time_matcher_agrees_with_crawlerdetect(agent):
    """The same lists, matched by RE2 instead of Python's `re` (and the lookahead by `re`)."""
    assert visitors.is_crawler(agent) == CrawlerDetect().is_crawler(agent)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
       | st.lists(st.sampled_from(["Mozilla/5.0", " (", ")", ";", "bot", "Yandex", "Search", "crawl", "spider",
                                   "Chrome/126", "Android 14", "FBAN", "http://", "é", "ß", "Ⅻ"]), max_size=12).map("".join))
def test_the_linear_time_matcher_agrees_with_crawlerdetect_on_any_text(agent):
    assert visitors.is_crawler(agent) == CrawlerDetect().is_crawler(agent)
