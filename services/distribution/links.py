"""Tracked links: unguessable codes, UTM-tagged targets, share-intent URLs, and what a
click may keep about its visitor (a salted hash that rotates daily, never the address)."""

import hashlib
import hmac
import re
import secrets
from datetime import date
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from schemas.directory import Network
from schemas.networks import tracked_link

UTM_MEDIUM = "employee_advocacy"

# Web composers per network; Instagram and Mastodon (one per instance) have none.
_INTENTS: dict[Network, str] = {
    Network.LINKEDIN: "https://www.linkedin.com/sharing/share-offsite/?url={url}",
    Network.X: "https://x.com/intent/post?text={text}",
    Network.XING: "https://www.xing.com/spi/shares/new?url={url}",
    Network.FACEBOOK: "https://www.facebook.com/sharer/sharer.php?u={url}",
    Network.BLUESKY: "https://bsky.app/intent/compose?text={text}",
}

_CONTROL = re.compile(r"[\x00-\x20\x7f]")  # no whitespace either: a URL in a header has none

_BOTS = re.compile(
    r"bot|crawl|spider|slurp|preview|facebookexternalhit|embedly|quora link|whatsapp|telegram|"
    r"curl|wget|python-requests|aiohttp|httpclient|okhttp|headless|phantom|lighthouse",
    re.IGNORECASE,
)


def new_code() -> str:
    """96 random bits, URL-safe: a code cannot be guessed or enumerated."""
    return secrets.token_urlsafe(12)


def tracked_url(base_url: str, code: str) -> str:
    return tracked_link(base_url, code)


def redirect_target(source_url: str, network: Network, campaign_id: str | None, item_id: str) -> str:
    """The item's URL with UTM tags (existing query parameters kept, ours win)."""
    parts = urlsplit(source_url)
    query = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith("utm_")}
    query |= {"utm_source": network.value, "utm_medium": UTM_MEDIUM,
              "utm_campaign": campaign_id or "none", "utm_content": item_id}
    return urlunsplit(parts._replace(query=urlencode(query)))


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


def is_bot(user_agent: str | None) -> bool:
    return not user_agent or bool(_BOTS.search(user_agent))


def visitor_hash(secret: str, day: date, address: str, user_agent: str | None) -> str:
    """Unique-visitor counting without keeping the address: the salt changes every day,
    so yesterday's hashes cannot be linked to today's."""
    salt = hmac.new(secret.encode(), day.isoformat().encode(), hashlib.sha256).digest()
    return hmac.new(salt, f"{address}\n{user_agent or ''}".encode(), hashlib.sha256).hexdigest()[:32]
