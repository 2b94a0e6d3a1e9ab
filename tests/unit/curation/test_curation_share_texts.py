"""Suggested share texts against each network's limits, counted the way each network
counts: as examples (from the networks' own rules and bug reports) and as properties."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.commands import Rejected
from schemas.directory import Network
from schemas.networks import LIMITS, blank, compose, graphemes, tracked_link, weighted_length
from services.curation.share_texts import check_share_texts
from services.distribution import links
from services.distribution.domain import ItemView, check_share, post_of

BASE = "https://go.example.com"
LINK = tracked_link(BASE)
networks = st.sampled_from(list(Network))
texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=400)
web_links = st.from_regex(r"https://[a-z]{1,20}\.com/[a-z0-9/]{0,200}", fullmatch=True)
# Hindi: 15 code points in 9 graphemes, and 9 in 4 (conjuncts are one grapheme each).
HINDI = "नमस्ते दुनिया, " * 15 + "क्षत्रिय " * 12 + "a" * 16


def reason(texts: dict[Network, str], disclosure: str | None = None, link: str = LINK) -> str | None:
    try:
        check_share_texts(texts, disclosure, link)
    except Rejected as refused:
        return refused.reason
    return None


def test_every_network_has_a_limit():
    assert set(LIMITS) == set(Network)


# --- X: twitter-text ----------------------------------------------------------------------

def test_x_counts_bare_domains_as_links_of_23_as_x_does():
    text = "A" * 221 + " More at depub.space and example.com"
    assert weighted_length(Network.X, compose(text, None, LINK)) == 221 + 9 + 23 + 5 + 23 + 1 + 23
    assert reason({Network.X: text}) == "share_text_too_long"


def test_x_counts_a_link_as_23_characters_whatever_its_length():
    assert weighted_length(Network.X, "https://a.com") == 23
    assert weighted_length(Network.X, "https://example.com/news/a-rather-long-path-to-an-article?utm_source=x") == 23
    assert weighted_length(Network.LINKEDIN, "https://a.com") == len("https://a.com")


def test_x_ends_a_link_where_text_follows_it_without_a_space():
    # The link stops at the first character no URL has: the Japanese text after it counts 2 a character.
    assert weighted_length(Network.X, "http://twitter.com/これは日本語です。example.com中国語") == 23 + 18 + 23 + 6


@pytest.mark.parametrize(("post", "expected"), [
    ("Read https://example.com/a.", 5 + 23 + 1),
    ("(see https://example.com/a)", 5 + 23 + 1),
    ("https://example.com/a, https://example.com/b!", 23 + 2 + 23 + 1),
    ("“https://example.com/a”", 1 + 23 + 1),
])
def test_x_leaves_punctuation_right_after_a_link_out_of_it(post, expected):
    assert weighted_length(Network.X, post) == expected


def test_x_counts_most_characters_outside_latin_twice_and_an_emoji_sequence_as_two():
    assert weighted_length(Network.X, "abc") == 3
    assert weighted_length(Network.X, "日本語") == 6
    assert weighted_length(Network.X, "👨‍👩‍👧‍👦") == 2


def test_x_refuses_a_text_with_a_character_it_does_not_allow_whatever_its_length():
    assert reason({Network.X: "ABC\ufffeABC"}) == "share_text_invalid_characters"
    assert reason({Network.LINKEDIN: "ABC\ufffeABC"}) is None


# --- Mastodon: URLs 23, otherwise graphemes -------------------------------------------------

def test_mastodon_counts_every_url_as_23_and_a_bare_domain_as_its_characters():
    assert weighted_length(Network.MASTODON, "see https://example.com/a/very/long/path/indeed") == 4 + 23
    assert weighted_length(Network.MASTODON, "see example.com") == len("see example.com")
    assert weighted_length(Network.MASTODON, "日本語 👨‍👩‍👧‍👦") == 5


# --- Bluesky: 300 graphemes ----------------------------------------------------------------

def test_bluesky_counts_graphemes_so_a_hindi_post_of_199_graphemes_and_349_code_points_is_accepted():
    assert (graphemes(HINDI), len(HINDI)) == (199, 349)
    assert weighted_length(Network.BLUESKY, HINDI) == 199
    assert reason({Network.BLUESKY: HINDI}) is None
    assert reason({Network.BLUESKY: HINDI + "क्ष" * (300 - 199 - 1 - graphemes(LINK))}) is None
    assert reason({Network.BLUESKY: HINDI + "क्ष" * (300 - 199 - graphemes(LINK))}) == "share_text_too_long"


def test_bluesky_counts_a_family_emoji_or_a_flag_as_one():
    assert weighted_length(Network.BLUESKY, "👨‍👩‍👧‍👦🇨🇭é") == 3


# --- the same link on both sides -----------------------------------------------------------

def test_the_disclosure_line_and_the_link_count_against_the_limit():
    room = 280 - 23 - len("\n#employee\n")
    assert reason({Network.X: "a" * room}, "#employee") is None
    assert reason({Network.X: "a" * (room + 1)}, "#employee") == "share_text_too_long"


@pytest.mark.parametrize("text", [" \n", "\u202e\u200b   ", "\u3164", "\ufeff\u2060\u00ad", "\u2800 \u2800"])
def test_a_share_text_that_shows_nothing_is_empty(text):
    """White space, zero-width and bidi controls, a Hangul filler, a BOM, a soft hyphen:
    nothing to read, only the disclosure and the link would show."""
    assert reason({Network.LINKEDIN: text}) == "share_text_empty"


def test_a_share_text_of_one_visible_character_among_invisible_ones_is_not_empty():
    assert reason({Network.LINKEDIN: "\u200b\U0001F44D\u200b"}) is None


@pytest.mark.parametrize("network", list(Network))
def test_the_boundary_is_exact_for_each_network(network):
    room = LIMITS[network].max_chars - weighted_length(network, compose("", None, LINK)) - 1
    assert reason({network: "a" * room}, None) is None
    assert reason({network: "a" * (room + 1)}, None) == "share_text_too_long"


@pytest.mark.parametrize("base", ["https://go.example.com", "http://127.0.0.1:8083", "https://example.org/links/"])
@given(network=networks, text=texts)
def test_a_text_curation_accepts_is_never_refused_at_share_time(base, network, text):
    item = ItemView(item_id="item-1", status="active", source_url="https://example.com/a", campaign_id=None,
                    disclosure="#ad", share_texts={network.value: text}, title="T", editable=False)
    post = post_of(text, item, links.tracked_url(base, links.new_code()))
    if reason({network: text}, "#ad", tracked_link(base)) is None:
        check_share(item, True, network, post, None, False, None)  # raises if refused


# --- properties ----------------------------------------------------------------------------

@given(networks, texts, web_links)
def test_a_text_is_accepted_exactly_when_the_composed_post_fits(network, text, link):
    post = compose(text, "#ad", link)
    fits = weighted_length(network, post) <= LIMITS[network].max_chars
    outcome = reason({network: text}, "#ad", link)
    if blank(text):  # what shows nothing: the examples above
        assert outcome == "share_text_empty"
    elif not fits:
        assert outcome == "share_text_too_long"
    else:
        assert outcome in (None, "share_text_invalid_characters")


@given(networks, texts, st.text(max_size=50))
def test_adding_text_never_makes_a_post_shorter(network, text, more):
    assert weighted_length(network, text + " " + more) >= weighted_length(network, text)


@given(networks, texts.filter(lambda t: "." not in t and ":" not in t))
def test_without_links_a_network_counts_between_graphemes_and_twice_the_code_points(network, text):
    code_points = len(unicodedata.normalize("NFC", text))
    length = weighted_length(network, text)
    if LIMITS[network].counting.name == "CODE_POINTS":
        assert length == code_points
    elif network is Network.X:
        assert length <= 2 * code_points
    else:
        assert length == graphemes(text) <= len(text)


@given(st.sampled_from([Network.X, Network.MASTODON]), web_links, web_links)
def test_on_x_and_mastodon_any_two_links_weigh_the_same(network, one, other):
    assert weighted_length(network, f"see {one}") == weighted_length(network, f"see {other}") == 4 + 23
