"""RSS and Atom feeds: reading the entries of a fetched one (fetching.py fetches it).

Parsing is feedparser's: RSS 0.9x, 1.0 and 2.0, Atom 0.3 and 1.0, the character set
the HTTP header or the document names, HTML entities, `xml:base`, RSS 0.91's DOCTYPE
and the ill-formed feeds real servers send. It is handed the bytes and the response
headers and never fetches anything itself: our fetcher guards against SSRF, and a
bytes argument that looks like a path or URL would make feedparser open it, so the
body goes in as a stream. Its DTD handling keeps only plain internal entities (no
external ones, no entity inside an entity), so nothing is fetched or blown up.
"""

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import feedparser

TITLE_FROM_TEXT_CHARS = 80  # a title made from an entry's text: about a headline's length
# A DOCTYPE that only names an external DTD (RSS 0.91's: `<!DOCTYPE rss PUBLIC "-//Netscape
# Communications//DTD RSS 0.91//EN" "http://my.netscape.com/…">`), with no internal subset.
# Possessive (`++`, `*+`): what one part took is never given back to the next, so a prolog of
# any length is read once (with backtracking, `SYSTEM` and 40,000 spaces took 3.6 s, a feed's
# 5 MB hours, holding the GIL).
_EXTERNAL_DOCTYPE = re.compile(rb"<!DOCTYPE\s++[\w:.-]++\s++(?:PUBLIC\s++(?:\"[^\"]*+\"|'[^']*+')\s*+|SYSTEM\s*+)"
                               rb"(?:\"[^\"]*+\"|'[^']*+')?\s*+>", re.IGNORECASE)


@dataclass(frozen=True)
class Entry:
    entry_id: str
    url: str
    title: str
    summary: str
    # The feed gave no title (RSS 2.0 requires a title or a description, not both): this
    # one was made from the text, and an editor should write a real one.
    title_from_text: bool = False


def parse(body: bytes, headers: Mapping[str, str] | None = None, url: str = "") -> list[Entry]:
    """The entries of an RSS or Atom document, in document order. `headers` are the HTTP
    response's (lower-case names; `content-type` may name the charset), `url` the feed's
    own after redirects: relative links resolve against `xml:base`, then it. Raises
    ValueError for what is not a feed."""
    response_headers = {name.lower(): value for name, value in (headers or {}).items()}
    response_headers.setdefault("content-type", "application/xml")
    if url:
        response_headers["content-location"] = url
    parsed = feedparser.parse(io.BytesIO(_without_external_doctype(body)), response_headers=response_headers,
                              resolve_relative_uris=True, sanitize_html=True)
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise ValueError(f"not an RSS or Atom document{f': {problem}' if problem else ''}")
    return [_entry(entry) for entry in parsed.entries]


def _without_external_doctype(body: bytes) -> bytes:
    """The document without a DOCTYPE that only points at an external DTD. Such a DTD is never
    loaded, and feedparser 6.0.14's strict parser then skips every entity it would have
    defined: RSS 0.91's declares the HTML ones, so `Caf&eacute;` came out as "Caf".
    Without the DOCTYPE, feedparser reads those entities as HTML ones, as it does in any
    feed without a DTD. Only the prolog (before the first element) is looked at."""
    start = re.search(rb"<[A-Za-z_]", body)
    head = body[:start.start()] if start else body
    if b"<!DOCTYPE" not in head.upper():
        return body
    return _EXTERNAL_DOCTYPE.sub(b"", head, count=1) + body[len(head):]


def _entry(entry: Any) -> Entry:
    """The id falls back to the link, as feed readers do; a missing link is for the poller to refuse."""
    url = (entry.get("link") or "").strip()
    title = _text(entry, "title")
    # Without a summary of its own, feedparser copies the content into `summary` but gives no
    # `summary_detail`: the type is then the content's.
    summary = (_text(entry, "summary") if entry.get("summary_detail") else "") or _text(
        (entry.get("content") or [{}])[0], "value", "type")
    entry_id = (entry.get("id") or "").strip() or url
    if title or not summary:
        return Entry(entry_id, url, title, summary)
    return Entry(entry_id, url, headline(summary), summary, title_from_text=True)


def _text(node: Any, name: str, type_key: str | None = None) -> str:
    """A text construct as plain text: a `text/plain` one as written (a `<b>` in it is
    text), HTML and XHTML ones without their markup; whitespace runs become one space.
    The value is `node[name]`, its type in `node[name + "_detail"]` (feedparser's detail
    can hold a nested element's value, e.g. an Atom entry's `<image><title>`, while the
    plain key holds the entry's own)."""
    value = node.get(name) or ""
    kind = node.get(type_key) if type_key else (node.get(f"{name}_detail") or {}).get("type")
    if "html" in (kind or ""):
        value = _html_text(value)
    # feedparser passes on a NUL (`&#0;`, which XML forbids), and Postgres text cannot keep one.
    return " ".join(value.replace("\x00", "").split())


def headline(text: str, limit: int = TITLE_FROM_TEXT_CHARS) -> str:
    """The start of `text` as a title: whole words up to `limit` characters, then "…"."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit - 1]
    return cut.rstrip(" ,;:-") + "…"


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.parts.append(" ")  # <p>a</p><p>b</p> reads "a b", not "ab"

    def handle_endtag(self, tag: str) -> None:
        self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: Any) -> None:
        self.parts.append(" ")


def _html_text(markup: str) -> str:
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)
