"""What content must satisfy, each breach a `Rejected` with a stable reason code.

Shape (types, enums, unknown fields) is the contract's business; policy is checked
here: URL schemes, text lengths, share-text limits, dates, and what a step requires.
"""

import unicodedata
from datetime import date, datetime
from urllib.parse import urlsplit

from schemas.commands import Rejected
from schemas.curation import ItemContent, Reason
from schemas.networks import blank
from schemas.urls import check_a_labels, to_ascii
from services.curation.share_texts import check_share_texts

MAX_CHARS = {
    "url": 2048, "title": 300, "summary": 3000, "disclosure": 200, "share_text": 63206,
    "reason": 500, "note": 2000, "name": 200, "goal": 2000,
}


def check_url(field: str, url: str) -> None:
    """Only http(s) with a host: no javascript:, data:, file: and the like, no
    credentials (`https://trusted@evil`), no whitespace or control characters, and a host
    that IDNA can write in ASCII (`https://bücher.example/` can; `https://💩.la/` cannot: IDNA 2008 has no emoji).
    At most 2,048 characters and as many bytes in UTF-8: a source URL is a key of two
    indexes, and a btree entry holds about 2,700 bytes (2,020 CJK characters are 6,060)."""
    check_length(field, url, "url")
    if len(url.encode()) > MAX_CHARS["url"]:
        raise Rejected(Reason.TOO_LONG, f"{field} has more than {MAX_CHARS['url']} bytes in UTF-8")
    if not _is_web_url(url):
        raise Rejected(Reason.INVALID_URL, f"{field} must be an http(s) URL with a host")


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
        to_ascii(url)  # an IDN host must have an ASCII form (IDNA 2008, UTS #46), or no link can point to it
        check_a_labels(parts.hostname or "")  # and an ASCII one's punycode labels must decode
    except ValueError:  # a malformed port or IPv6 literal, a host IDNA refuses
        return False
    return (parts.scheme.lower() in {"http", "https"} and bool(parts.hostname) and port_ok
            and parts.username is None and not any(c.isspace() or unicodedata.category(c) == "Cc" for c in url))


def check_length(field: str, value: str, kind: str | None = None) -> None:
    limit = MAX_CHARS[kind or field]
    if len(value) > limit:
        raise Rejected(Reason.TOO_LONG, f"{field} has more than {limit} characters")


def check_required(**fields: object) -> None:
    missing = sorted(name for name, value in fields.items()
                     if not value or (isinstance(value, str) and blank(value)))
    if missing:
        raise Rejected(Reason.MISSING_FIELD, f"required: {', '.join(missing)}")


def check_content(content: ItemContent, tracked_link: str) -> None:
    """What any draft must satisfy, from the first save on. Share texts are counted with
    `tracked_link`, one as long as the link each share will carry."""
    check_required(source_url=content.source_url, title=content.title)
    check_url("source_url", content.source_url)
    if content.image_url is not None:
        check_url("image_url", content.image_url)
    check_length("title", content.title)
    check_length("summary", content.summary)
    if content.disclosure is not None:
        check_length("disclosure", content.disclosure)
    for network, text in content.share_texts.items():
        check_length(f"share_texts.{network.value}", text, "share_text")
    check_share_texts(content.share_texts, content.disclosure, tracked_link)
    if content.publish_at and content.expire_at and content.expire_at <= content.publish_at:
        raise Rejected(Reason.INVALID_PERIOD, "expire_at must be after publish_at")


def check_ready_for_review(content: ItemContent, disclosure_required: bool) -> None:
    """What submission adds: a summary, share texts, and the disclosure where required."""
    check_required(summary=content.summary, share_texts=content.share_texts,
                   **({"disclosure": content.disclosure} if disclosure_required else {}))


def check_not_expired(content: ItemContent, now: datetime) -> None:
    if content.expire_at is not None and content.expire_at <= now:
        raise Rejected(Reason.ALREADY_EXPIRED, "expire_at has passed")


def check_campaign(name: str, goal: str, starts_on: date, ends_on: date) -> None:
    check_required(name=name)
    check_length("name", name)
    check_length("goal", goal)
    if ends_on < starts_on:
        raise Rejected(Reason.INVALID_PERIOD, "ends_on must not be before starts_on")
