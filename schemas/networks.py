"""The social networks advocates share on, and how each counts a post against its limit:
the one table of limits, shared by curation (suggested texts) and distribution (shares).

What an advocate posts is the text, the disclosure line and the link, one per line; the
limit applies to that whole. Counting errs on the long side, never the short: a text we
accept must post.
"""

import re
import unicodedata
from dataclasses import dataclass

from schemas.directory import Network

URL = re.compile(r"https?://\S+", re.IGNORECASE)


@dataclass(frozen=True)
class NetworkLimit:
    max_chars: int
    link_chars: int | None = None  # every link counts this much, whatever its length
    wide_outside_latin: bool = False  # most code points outside Latin and punctuation count twice


# Per network, as documented by each at the time of writing. Code points, not graphemes:
# a code point count is never below the grapheme count Bluesky uses.
LIMITS: dict[Network, NetworkLimit] = {
    Network.LINKEDIN: NetworkLimit(3000),
    Network.X: NetworkLimit(280, link_chars=23, wide_outside_latin=True),
    Network.XING: NetworkLimit(3000),
    Network.FACEBOOK: NetworkLimit(63206),
    Network.INSTAGRAM: NetworkLimit(2200),
    Network.MASTODON: NetworkLimit(500, link_chars=23),
    Network.BLUESKY: NetworkLimit(300),
}

# X's counting (twitter-text v3): these code point ranges weigh 1, all others 2. Emoji
# sequences weigh 2 on X; counting each of their code points as 2 overcounts, safely.
_NARROW = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))


def compose(text: str, disclosure: str | None, link: str) -> str:
    """The post as an advocate shares it."""
    return "\n".join(part for part in (text, disclosure, link) if part)


def weighted_length(network: Network, post: str) -> int:
    """How long `network` counts `post` to be."""
    limit = LIMITS[network]
    post = unicodedata.normalize("NFC", post)
    links = 0
    if limit.link_chars is not None:
        post, links = URL.subn("", post)
    return sum(_weigh(char, limit) for char in post) + links * (limit.link_chars or 0)


def _weigh(char: str, limit: NetworkLimit) -> int:
    if not limit.wide_outside_latin:
        return 1
    point = ord(char)
    return 1 if any(low <= point <= high for low, high in _NARROW) else 2
