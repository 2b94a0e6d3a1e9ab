"""RSS and Atom feeds: reading the entries of a fetched one (fetching.py fetches it).

Parsing refuses any DTD, so no entity is expanded and nothing external is fetched; the
standard library's ElementTree then reads RSS 2.0, RSS 1.0 and Atom 1.0.
"""

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.parsers import expat

ATOM = "{http://www.w3.org/2005/Atom}"
RSS1 = "{http://purl.org/rss/1.0/}"
RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Entry:
    entry_id: str
    url: str
    title: str
    summary: str


def parse(body: bytes) -> list[Entry]:
    """The entries of an RSS or Atom document, in document order. Raises ValueError."""
    _refuse_dtd(body)
    root = ET.fromstring(body)
    if root.tag == f"{ATOM}feed":
        return [_atom_entry(e) for e in root.iter(f"{ATOM}entry")]
    if root.tag == "rss":
        return [_rss2_item(e) for e in root.iter("item")]
    if root.tag.endswith("RDF"):
        return [_rss1_item(e) for e in root.iter(f"{RSS1}item")]
    raise ValueError(f"not an RSS or Atom document: <{root.tag}>")


def _refuse_dtd(body: bytes) -> None:
    def refuse(*_: object) -> None:
        raise ValueError("the feed declares a DTD; refused")

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(body, True)
    except expat.ExpatError as error:
        raise ValueError(f"malformed XML: {error}") from None


def _atom_entry(entry: ET.Element) -> Entry:
    links = entry.findall(f"{ATOM}link")
    alternate = [link for link in links if link.get("rel", "alternate") == "alternate"]
    url = (alternate or links or [ET.Element("link")])[0].get("href", "").strip()
    summary = entry.findtext(f"{ATOM}summary") or entry.findtext(f"{ATOM}content") or ""
    return _entry(entry.findtext(f"{ATOM}id"), url, entry.findtext(f"{ATOM}title"), summary)


def _rss2_item(item: ET.Element) -> Entry:
    link = item.findtext("link") or ""
    return _entry(item.findtext("guid"), link, item.findtext("title"), item.findtext("description") or "")


def _rss1_item(item: ET.Element) -> Entry:
    link = item.findtext(f"{RSS1}link") or ""
    return _entry(item.get(RDF_ABOUT), link, item.findtext(f"{RSS1}title"), item.findtext(f"{RSS1}description") or "")


def _entry(entry_id: str | None, url: str, title: str | None, summary: str) -> Entry:
    """The id falls back to the link, as feed readers do; a missing link is for the poller to refuse."""
    url = url.strip()
    return Entry((entry_id or "").strip() or url, url, _plain(title or ""), _plain(summary))


def _plain(text: str) -> str:
    """Summaries are often HTML: keep the words only."""
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())
