"""Tracked links: unguessable codes, UTM-tagged targets, share-intent URLs, and what a
click may keep about its visitor (a keyed hash that changes every day and for every share,
never the address). Who the visitor is (a person or a bot, and their address) is
visitors.py's; the day's random salt is visitor_salts.py's."""

import hashlib
import hmac
import re
import secrets
from urllib.parse import quote, urlsplit

from schemas.directory import Network
from schemas.networks import TRACKED_CODE_CHARS, tracked_link
from schemas.urls import to_ascii, with_tracking

UTM_MEDIUM = "employee_advocacy"

# Web composers per network; Instagram and Mastodon (one per instance) have none. X's and
# Bluesky's take the post's text (the link in it); LinkedIn's, Xing's and Facebook's take
# only the link and show its preview: the person pastes text and disclosure themself.
_INTENTS: dict[Network, str] = {
    Network.LINKEDIN: "https://www.linkedin.com/sharing/share-offsite/?url={url}",
    Network.X: "https://x.com/intent/post?text={text}",
    Network.XING: "https://www.xing.com/spi/shares/new?url={url}",
    Network.FACEBOOK: "https://www.facebook.com/sharer/sharer.php?u={url}",
    Network.BLUESKY: "https://bsky.app/intent/compose?text={text}",
}

_CONTROL = re.compile(r"[\x00-\x20\x7f]")  # no whitespace either: a URL in a header has none
# What a code in a path may be: ours are 16 characters; the range is what the redirect
# has always looked up. Anything else (a NUL, a space, a dot) is no code.
CODE = re.compile(r"[A-Za-z0-9_-]{8,64}")


def new_code() -> str:
    """96 random bits, URL-safe: a code cannot be guessed or enumerated."""
    return secrets.token_urlsafe(TRACKED_CODE_CHARS * 3 // 4)


def tracked_url(base_url: str, code: str) -> str:
    return tracked_link(base_url, code)


def redirect_target(source_url: str, network: Network, campaign_id: str | None, item_id: str) -> str:
    """The item's URL with UTM tags appended to its own query, which goes out byte for byte
    (`utm_*` already there are replaced; the fragment stays last), in ASCII for a `Location`
    header: an IDN host in punycode, a non-ASCII path percent-encoded (schemas/urls.py).
    Raises ValueError for a URL that cannot be written so (a host IDNA refuses)."""
    return to_ascii(with_tracking(source_url, {
        "utm_source": network.value, "utm_medium": UTM_MEDIUM, "utm_campaign": campaign_id or "none",
        "utm_content": item_id}))


def is_web_url(url: str) -> bool:
    """http(s) with a host and no control characters: never `javascript:`, `data:` or a header
    split by an encoded line break."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not _CONTROL.search(url)


def share_intent_url(network: Network, url: str, post: str) -> str | None:
    template = _INTENTS.get(network)
    return template.format(url=quote(url, safe=""), text=quote(post, safe="")) if template else None


def has_share_intent(network: Network) -> bool:
    """Whether `network` has a web composer that `share_intent_url` opens."""
    return network in _INTENTS


def intent_carries_text(network: Network) -> bool:
    """Whether `network`'s composer is handed the post's text (with the link in it). Where it
    is not (LinkedIn, Xing, Facebook: only the link), an app must let the person copy the
    text and the disclosure line into the post themself."""
    return "{text}" in _INTENTS.get(network, "")


def day_key(secret: str, salt: bytes) -> bytes:
    """The key of one day's visitor hashes: HMAC-SHA-256 of the day's random salt under
    CLICK_SECRET. Both are needed: the salt, which lives in the database for its day only,
    and the secret, which never does."""
    return hmac.new(secret.encode(), salt, hashlib.sha256).digest()


def visitor_hash(key: bytes, share_id: str, address: str, user_agent: str | None) -> str:
    """Unique-visitor counting without keeping the address: 128 bits of HMAC-SHA-256 under
    the day's key (`day_key`) of the share, the address and the user agent. The same visitor
    of the same share on the same day gets the same hash (metrics counts them once); on
    another share or another day a hash unrelated to it. Without the key, which is gone
    with its day's salt, an address cannot be tried against a hash (2^32 guesses for IPv4
    took minutes when the key was derived from CLICK_SECRET alone; review S4)."""
    message = "\n".join((share_id, address, user_agent or "")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]
