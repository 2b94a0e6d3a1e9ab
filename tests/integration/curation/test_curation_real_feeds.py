"""Feeds as real servers send them, on the real stack: compressed unasked, Atom with xhtml
titles and xml:base, RSS with only a permalink guid, without titles, with HTML entities, a
blank line before the declaration or RSS 0.91's DOCTYPE. Sources can be paused and
removed; a refused entry is recorded once; fetches are conditional; drafts per poll are
capped; the same article with tracking parameters is one item."""

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.kafka import eventually
from schemas import curation as c
from tests.integration.curation.curation_rig import command, rejections

ATOM_XHTML = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.com/"><title>Blog</title>
  <entry><id>tag:blog.example.com,2026:hello</id>
    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Hello <b>bold</b> world</div></title>
    <summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Fish &amp; chips</p></div></summary>
    <link href="/2026/05/hello.html"/></entry>
</feed>"""

RSS_AS_SERVED = b"""

<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>News</title>
  <item><guid>https://news.example.com/2026/permalink</guid><title>Only a permalink</title></item>
  <item><link>https://news.example.com/2026/untitled</link>
        <description>Our plant in Lyon now runs on solar power alone, two years ahead of plan.</description></item>
  <item><link>https://news.example.com/2026/cafe</link><title>Caf&eacute;&nbsp;cr&egrave;me</title></item>
</channel></rss>"""

RSS_091 = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Old</title>
  <item><title>R&eacute;sum&eacute; 0.91</title><link>https://old.example.com/1</link></item>
</channel></rss>"""


def rss(*items: tuple[str, str]) -> bytes:
    body = "".join(f"<item><guid isPermaLink='false'>{guid}</guid><link>{link}</link><title>T {guid}</title></item>"
                   for guid, link in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>N</title>{body}</channel></rss>'.encode()


@dataclass
class Served:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Feeds:
    base: str = ""
    documents: dict[str, Served] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # path, headers

    def asked(self, path: str) -> list[dict[str, str]]:
        return [headers for requested, headers in self.requests if requested == path]


@pytest.fixture
def feeds() -> Iterator[Feeds]:
    """An HTTP server on loopback that answers each path as told, honouring If-None-Match
    against an ETag it was told to send, and records every request's headers."""
    served = Feeds()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            document = served.documents.get(self.path, Served(404, b"not found"))
            etag = document.headers.get("ETag")
            unchanged = etag is not None and self.headers.get("If-None-Match") == etag
            self.send_response(304 if unchanged else document.status)
            for name, value in document.headers.items():
                self.send_header(name, value)
            body = b"" if unchanged else document.body
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        served.base = f"http://127.0.0.1:{httpd.server_port}"
        yield served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


async def test_feeds_as_real_servers_send_them_become_drafts(curation, feeds):
    feeds.documents["/atom"] = Served(body=gzip.compress(ATOM_XHTML), headers={
        "Content-Type": "application/atom+xml", "Content-Encoding": "gzip"})  # gzip, though nobody asked for it
    feeds.documents["/rss"] = Served(body=RSS_AS_SERVED, headers={"Content-Type": "application/rss+xml"})
    feeds.documents["/rss091"] = Served(body=RSS_091, headers={"Content-Type": "text/xml; charset=ISO-8859-1"})
    async with curation.build().running():
        await curation.send(*(command(c.RegisterSource, f"source-{name}", url=f"{feeds.base}/{name}", language="en")
                              for name in ("atom", "rss", "rss091")))
        await eventually(lambda: _polled(curation, 3), what="three polls")
    await curation.events(at_least=8, settle=1.0)

    errors = {r["id"]: r["last_error"] for r in await curation.fetch("SELECT id, last_error FROM sources")}
    assert errors == {"source-atom": None, "source-rss": None, "source-rss091": None}
    items = {r["source_url"]: (r["title"], r["summary"]) for r in await curation.fetch(
        "SELECT source_url, content->>'title' AS title, content->>'summary' AS summary FROM items")}
    assert items == {
        "https://blog.example.com/2026/05/hello.html": ("Hello bold world", "Fish & chips"),
        "https://news.example.com/2026/permalink": ("Only a permalink", ""),
        "https://news.example.com/2026/untitled": (
            "Our plant in Lyon now runs on solar power alone, two years ahead of plan.",
            "Our plant in Lyon now runs on solar power alone, two years ahead of plan."),
        "https://news.example.com/2026/cafe": ("Café crème", ""),
        "https://old.example.com/1": ("Résumé 0.91", ""),
    }
    marked = await curation.fetch("SELECT source_url FROM items WHERE title_from_text")
    assert [r["source_url"] for r in marked] == ["https://news.example.com/2026/untitled"]  # for the editor to write
    assert "gzip" in feeds.asked("/atom")[0].get("accept-encoding", "")


async def test_a_refused_entry_is_recorded_once_and_an_unchanged_feed_is_not_read_again(curation, feeds):
    feeds.documents["/news"] = Served(body=rss(("bad-1", "javascript:alert(1)"), ("ok-1", "https://example.com/1")),
                                      headers={"ETag": '"v1"', "Last-Modified": "Wed, 27 May 2026 10:00:00 GMT"})
    async with curation.build().running():
        await curation.send(command(c.RegisterSource, "source-news1", url=f"{feeds.base}/news", language="en"))
        await eventually(lambda: _polled(curation, 1), what="the first poll")
        [first] = await curation.fetch("SELECT last_error, etag FROM sources")
        assert (first["last_error"], first["etag"]) == ("entry 'bad-1' refused: invalid_url", '"v1"')

        curation.clock.advance(seconds=301)  # unchanged: a 304
        await eventually(lambda: _polled(curation, 1, since=curation.clock.now), what="the second poll")
        assert feeds.asked("/news")[1]["if-none-match"] == '"v1"'
        assert feeds.asked("/news")[1]["if-modified-since"] == "Wed, 27 May 2026 10:00:00 GMT"

        feeds.documents["/news"] = Served(body=rss(("bad-1", "javascript:alert(1)"), ("ok-2", "https://example.com/2")),
                                          headers={"ETag": '"v2"'})
        curation.clock.advance(seconds=301)  # changed, the refused entry still in it
        await eventually(lambda: _polled(curation, 1, since=curation.clock.now), what="the third poll")

    [source] = await curation.fetch("SELECT last_error, etag FROM sources")
    assert (source["last_error"], source["etag"]) == (None, '"v2"')  # the refusal was told once
    assert [(r["entry_id"], r["reason"]) for r in await curation.fetch(
        "SELECT entry_id, reason FROM feed_refusals")] == [("bad-1", "invalid_url")]
    assert sorted(r["source_url"] for r in await curation.fetch("SELECT source_url FROM items")) == [
        "https://example.com/1", "https://example.com/2"]


async def test_the_same_article_with_utm_parameters_or_a_fragment_is_one_item(curation, feeds):
    feeds.documents["/a"] = Served(body=rss(("a-1", "https://example.com/story?id=7&amp;utm_source=rss#comments")))
    feeds.documents["/b"] = Served(body=rss(("b-1", "https://example.com/story?id=7"),
                                            ("b-2", "https://example.com/story?id=7&amp;utm_medium=feed")))
    async with curation.build().running():
        await curation.send(command(c.RegisterSource, "source-aaaa1", url=f"{feeds.base}/a", language="en"))
        await eventually(lambda: _polled(curation, 1), what="the first source")
        await curation.send(command(c.RegisterSource, "source-bbbb1", url=f"{feeds.base}/b", language="en"))
        await eventually(lambda: _polled(curation, 2), what="the second source")

    assert [r["source_url"] for r in await curation.fetch("SELECT source_url FROM items")] == [
        "https://example.com/story?id=7"]


async def test_a_paused_source_waits_until_resumed_and_a_removed_one_is_never_polled_again(curation, feeds):
    feeds.documents["/feed"] = Served(body=rss(("n-1", "https://example.com/1")))
    source = "source-pausable"
    pause = command(c.PauseSource, source)
    async with curation.build().running():
        await curation.send(command(c.RegisterSource, source, url=f"{feeds.base}/feed", language="en"))
        await eventually(lambda: _polled(curation, 1), what="the first poll")
        await curation.send(pause)
        await eventually(lambda: _status(curation, source, "paused"), what="the pause")
        polls = len(feeds.requests)
        curation.clock.advance(seconds=301)
        await curation.send(command(c.ResumeSource, source))
        await eventually(lambda: _status(curation, source, "active"), what="the resumption")
        await eventually(lambda: _requests(feeds, polls + 1), what="a poll after resuming")
        remove = command(c.RemoveSource, source)
        await curation.send(remove)
        await eventually(lambda: _status(curation, source, "removed"), what="the removal")
        polls = len(feeds.requests)
        curation.clock.advance(seconds=301)
        late = [command(c.PauseSource, source), command(c.ResumeSource, source),
                command(c.PauseSource, "source-unknown"),
                command(c.RegisterSource, source, url=f"{feeds.base}/feed", language="en")]
        await curation.send(*late)
        events = await curation.events(at_least=9, settle=1.5)
    assert len(feeds.requests) == polls  # removed: not fetched, even when due

    kinds = [e.type.removeprefix("advocacy.curation.").removesuffix(".v1") for e in events if e.subject == source]
    assert kinds[:4] == ["source.registered", "source.paused", "source.resumed", "source.removed"]
    assert [rejections(events)[cmd.id] for cmd in late] == [
        "source_removed", "source_removed", "unknown_source", "source_exists"]


async def test_drafts_per_poll_are_capped_and_the_rest_come_at_the_next_poll(curation, feeds):
    feeds.documents["/big"] = Served(body=rss(*((f"e-{n}", f"https://example.com/{n}") for n in range(5))),
                                     headers={"ETag": '"same"'})
    async with curation.build(feed_max_entries=2).running():
        await curation.send(command(c.RegisterSource, "source-big01", url=f"{feeds.base}/big", language="en"))
        await eventually(lambda: _items(curation, 2), what="the first two drafts")
        for expected in (4, 5):
            curation.clock.advance(seconds=301)
            await eventually(lambda n=expected: _items(curation, n), what=f"{expected} drafts")
    assert sorted(r["source_url"] for r in await curation.fetch("SELECT source_url FROM items")) == [
        f"https://example.com/{n}" for n in range(5)]
    # A poll cut short asks again without validators, or a 304 would hide what is left.
    assert [h.get("if-none-match") for h in feeds.asked("/big")][:3] == [None, None, None]


async def _polled(curation, sources: int, since=None) -> bool:
    rows = await curation.fetch(
        "SELECT count(*) AS n FROM sources WHERE last_polled_at >= coalesce($1::timestamptz, '-infinity')", since)
    return rows[0]["n"] >= sources


async def _status(curation, source_id: str, status: str) -> bool:
    return bool(await curation.fetch("SELECT 1 FROM sources WHERE id = $1 AND status = $2", source_id, status))


async def _requests(feeds: Feeds, count: int) -> bool:
    return len(feeds.requests) >= count


async def _items(curation, count: int) -> bool:
    return len(await curation.fetch("SELECT id FROM items")) >= count
