"""Suggested share texts against each network's limits, as examples and as properties."""

import unicodedata

import pytest
from hypothesis import given, strategies as st

from schemas.directory import Network
from schemas.networks import LIMITS, compose, weighted_length
from services.curation.share_texts import check_share_texts
from schemas.commands import Rejected

LINK = "https://example.com/news/a-rather-long-path-to-an-article?utm_source=advocacy"
networks = st.sampled_from(list(Network))
texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=400)
links = st.from_regex(r"https://[a-z]{1,20}\.example/[a-z0-9/]{0,200}", fullmatch=True)


def reason(texts: dict[Network, str], disclosure: str | None = None, link: str = LINK) -> str | None:
    try:
        check_share_texts(texts, disclosure, link)
    except Rejected as refused:
        return refused.reason
    return None


def test_every_network_has_a_limit():
    assert set(LIMITS) == set(Network)


def test_x_counts_a_link_as_23_characters_whatever_its_length():
    assert weighted_length(Network.X, "https://a.example") == 23
    assert weighted_length(Network.X, LINK) == 23
    assert weighted_length(Network.LINKEDIN, LINK) == len(LINK)


def test_x_counts_most_characters_outside_latin_twice():
    assert weighted_length(Network.X, "abc") == 3
    assert weighted_length(Network.X, "日本語") == 6
    assert weighted_length(Network.MASTODON, "日本語") == 3


def test_the_disclosure_line_and_the_link_count_against_the_limit():
    room = 280 - 23 - len("\n#employee\n")
    assert reason({Network.X: "a" * room}, "#employee") is None
    assert reason({Network.X: "a" * (room + 1)}, "#employee") == "share_text_too_long"


def test_an_empty_share_text_is_rejected():
    assert reason({Network.LINKEDIN: " \n"}) == "share_text_empty"


@given(networks, texts, links)
def test_a_text_is_accepted_exactly_when_the_composed_post_fits(network, text, link):
    fits = weighted_length(network, compose(text, "#ad", link)) <= LIMITS[network].max_chars
    expected = None if fits else "share_text_too_long"
    assert reason({network: text}, "#ad", link) == (expected if text.strip() else "share_text_empty")


@given(networks, texts, st.text(max_size=50))
def test_adding_text_never_makes_a_post_shorter(network, text, more):
    assert weighted_length(network, text + " " + more) >= weighted_length(network, text)


@given(networks, texts.filter(lambda t: "http" not in t.lower()))
def test_without_links_a_code_point_counts_once_or_on_x_at_most_twice(network, text):
    code_points = len(unicodedata.normalize("NFC", text))
    if network is Network.X:
        assert code_points <= weighted_length(network, text) <= 2 * code_points
    else:
        assert weighted_length(network, text) == code_points


@given(st.sampled_from([Network.X, Network.MASTODON]), links, links)
def test_on_x_and_mastodon_any_two_links_weigh_the_same(network, one, other):
    assert weighted_length(network, f"see {one}") == weighted_length(network, f"see {other}") == 4 + 23


@pytest.mark.parametrize("network", list(Network))
def test_the_boundary_is_exact_for_each_network(network):
    room = LIMITS[network].max_chars - weighted_length(network, compose("", None, LINK)) - 1
    assert reason({network: "a" * room}, None) is None
    assert reason({network: "a" * (room + 1)}, None) == "share_text_too_long"
