"""The social networks advocates share on, and how each counts a post against its limit:
the one table of limits, shared by curation (suggested texts) and distribution (shares).

What an advocate posts is the text, the disclosure line and the tracked link, one per
line; the limit applies to that whole. Both services count the same post: curation with
a tracked link of the same length as the one distribution will make, so a text approved
in curation is never refused at share time. Each network is counted the way it counts:

- X: twitter-text's weighted length (the `twitter-text-parser` package, which passes
  twitter-text's conformance suite): most code points outside Latin weigh 2, an emoji
  sequence 2, and any URL it recognises — a bare domain such as `example.com` too — 23.
- Mastodon: grapheme clusters, with every URL that has a scheme counted as 23
  (Mastodon's `StatusLengthValidator`: twitter-text's extractor without protocol-less
  URLs, then `grapheme_length`).
- Bluesky: grapheme clusters (the app view's limit on a post's text is 300 graphemes).
- The others: code points after NFC, which are never fewer than graphemes: where a network
  does not say how it counts, we err long, never short.

Graphemes are UAX #29 extended grapheme clusters, by the `regex` module's `\\X`.
"""

import unicodedata
from dataclasses import dataclass
from enum import Enum

import regex
from twitter_text import extract_urls_with_indices, parse_tweet
from twitter_text.has_invalid_characters import has_invalid_characters

from schemas.directory import Network

TRACKED_CODE_CHARS = 16  # distribution's codes: 96 random bits, URL-safe base64
_GRAPHEME = regex.compile(r"\X")
# What shows nothing: white space, controls, the code points Unicode says to render as nothing
# when unsupported (Default_Ignorable_Code_Point: zero-width spaces and joiners, bidi controls,
# the BOM, soft hyphens, the Hangul fillers), and the blank Braille pattern U+2800 (a symbol,
# drawn empty: the usual "empty" post on networks that refuse white space).
_NOTHING_TO_READ = regex.compile(r"[\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cc}\u2800]*")
_MASTODON_URL_CHARS = 23


class Counting(Enum):
    CODE_POINTS = "code points (NFC)"
    GRAPHEMES = "grapheme clusters"
    TWITTER_TEXT = "twitter-text weighted length"
    MASTODON = "grapheme clusters, each URL 23"


@dataclass(frozen=True)
class NetworkLimit:
    max_chars: int
    counting: Counting = Counting.CODE_POINTS


# Per network, as documented by each at the time of writing.
LIMITS: dict[Network, NetworkLimit] = {
    Network.LINKEDIN: NetworkLimit(3000),
    Network.X: NetworkLimit(280, Counting.TWITTER_TEXT),
    Network.XING: NetworkLimit(3000),
    Network.FACEBOOK: NetworkLimit(63206),
    Network.INSTAGRAM: NetworkLimit(2200),
    Network.MASTODON: NetworkLimit(500, Counting.MASTODON),
    Network.BLUESKY: NetworkLimit(300, Counting.GRAPHEMES),
}


def compose(text: str, disclosure: str | None, link: str) -> str:
    """The post as an advocate shares it."""
    return "\n".join(part for part in (text, disclosure, link) if part)


def tracked_link(public_base_url: str, code: str = "x" * TRACKED_CODE_CHARS) -> str:
    """A tracked link (`<base>/r/<code>`); without a code, one as long as any real one, for
    counting a post before its link exists."""
    return f"{public_base_url.rstrip('/')}/r/{code}"


def weighted_length(network: Network, post: str) -> int:
    """How long `network` counts `post` to be."""
    counting = LIMITS[network].counting
    if counting is Counting.TWITTER_TEXT:
        return int(parse_tweet(post).weightedLength)
    if counting is Counting.MASTODON:
        return _mastodon_length(post)
    if counting is Counting.GRAPHEMES:
        return graphemes(post)
    return len(unicodedata.normalize("NFC", post))


def refuses_characters(network: Network, post: str) -> bool:
    """True if `network` refuses a post for a character in it, whatever its length: X (by
    twitter-text) refuses U+FFFE, U+FEFF and U+FFFF."""
    return LIMITS[network].counting is Counting.TWITTER_TEXT and has_invalid_characters(post)


def blank(text: str) -> bool:
    """True if `text` shows nothing: only white space, controls and default-ignorable code
    points (`"\u202e\u200b  "` is as empty as `"  "`)."""
    return _NOTHING_TO_READ.fullmatch(text) is not None


def shows_something(text: str) -> str:
    """`text`, for a pydantic `AfterValidator` on a text someone must read (a policy, an
    erasure's reason); ValueError if it is `blank` ("\u200b" passes a length check, and a
    stripped one)."""
    if blank(text):
        raise ValueError("shows nothing: only white space or invisible characters")
    return text


def graphemes(text: str) -> int:
    """Extended grapheme clusters (UAX #29): what a reader sees as one character."""
    return sum(1 for _ in _GRAPHEME.finditer(text))


def _mastodon_length(post: str) -> int:
    urls = extract_urls_with_indices(post, extract_urls_without_protocol=False)
    length, at = 0, 0
    for url in urls:
        start, end = url["indices"]
        length += graphemes(post[at:start]) + _MASTODON_URL_CHARS
        at = end
    return length + graphemes(post[at:])
