"""Feed ingestion on the real stack: a registered RSS or Atom source, served on loopback,
is polled on schedule; new entries become drafts, deduplicated by entry id and by URL.
Feeds must not hurt the platform: a URL into our own network is refused without being
fetched, and a server that does not speak HTTP fails its source alone."""

import asyncio

from harness.kafka import eventually
from schemas import curation as c
from tests.integration.curation.curation_rig import about, command, content

SOURCE = "source-newsroom"
OTHER = "source-press-01"
INTERNAL = "source-internal-01"
WRONG_PORT = "source-wrong-port"


def rss(*items: tuple[str, str, str]) -> bytes:
    body = "".join(f"<item><guid isPermaLink=\"false\">{guid}</guid><link>{link}</link><title>{title}</title>"
                   f"<description>&lt;p&gt;About {title}&lt;/p&gt;</description></item>" for guid, link, title in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>{body}</channel></rss>'.encode()


def atom(*entries: tuple[str, str, str]) -> bytes:
    body = "".join(f'<entry><id>{id_}</id><title>{title}</title><link href="{link}"/></entry>'
                   for id_, link, title in entries)
    return f'<feed xmlns="http://www.w3.org/2005/Atom"><title>Press</title>{body}</feed>'.encode()


def drafts(events) -> dict[str, str]:
    """The source of each drafted item (None if an editor drafted it), by item id."""
    return {e.subject: e.data.source_id for e in events if isinstance(e, c.ItemDrafted)}


async def test_new_feed_entries_become_drafts_once_by_entry_id_and_by_url(curation, feed_server):
    base, documents, _ = feed_server
    documents["/news.rss"] = (200, rss(("n-1", "https://example.com/a", "A"), ("n-2", "https://example.com/b", "B")))
    documents["/press.atom"] = (200, atom(("p-1", "https://example.com/b", "B again, elsewhere"),
                                          ("p-2", "https://example.com/c", "C")))
    async with curation.build().running():
        await curation.send(
            command(c.RegisterSource, SOURCE, url=f"{base}/news.rss", language="de", topics=["news"]),
            command(c.DraftItem, "item-manual-01", content=content(source_url="https://example.com/c")),
        )
        await eventually(lambda: _polled(curation, 1), what="the first poll")
        await eventually(lambda: _exists(curation, "item-manual-01"), what="the editor's draft")
        await curation.send(command(c.RegisterSource, OTHER, url=f"{base}/press.atom", language="en",
                                    content_type="internal_news"))
        await eventually(lambda: _polled(curation, 2), what="the second source's poll")
        # Next round: n-1 comes again under a new URL, a new entry reuses a seen URL, n-3 is new.
        documents["/news.rss"] = (200, rss(("n-1", "https://example.com/a-moved", "A"),
                                           ("n-9", "https://example.com/b", "B"), ("n-3", "https://example.com/d", "D")))
        curation.clock.advance(seconds=301)
        await eventually(lambda: _polled(curation, 2, since=curation.clock.now), what="the next round")
        await asyncio.sleep(0.5)
    events = await curation.events(at_least=6, settle=1.0)

    rows = await curation.fetch(
        "SELECT i.source_url, i.status, i.content->>'language' AS language, i.content->>'summary' AS summary,"
        " i.content->>'content_type' AS kind, i.authors FROM items i ORDER BY i.source_url")
    assert [r["source_url"] for r in rows] == [
        "https://example.com/a", "https://example.com/b", "https://example.com/c", "https://example.com/d"]
    from_feed = [r for r in rows if r["source_url"] != "https://example.com/c"]
    assert {(r["language"], r["kind"]) for r in from_feed} == {("de", "article")}  # the news source's settings
    assert rows[0]["summary"] == "About A" and rows[0]["authors"] == [] and rows[0]["status"] == "draft"
    # One drafted event per draft, naming the source; none for what was seen before.
    assert sorted(drafts(events).values(), key=str) == [None, SOURCE, SOURCE, SOURCE]
    assert all(about(events, item_id) == ["drafted"] for item_id in drafts(events))


async def test_a_failing_feed_and_a_refused_entry_are_recorded_on_the_source(curation, feed_server):
    base, documents, _ = feed_server
    documents["/bad.rss"] = (200, rss(("x-1", "javascript:alert(1)", "Trap"), ("x-2", "https://example.com/ok", "OK")))
    async with curation.build().running():
        await curation.send(command(c.RegisterSource, SOURCE, url=f"{base}/bad.rss", language="en"),
                            command(c.RegisterSource, OTHER, url=f"{base}/missing.rss", language="en"))
        await eventually(lambda: _polled(curation, 2), what="both polls")

    errors = {r["id"]: r["last_error"] for r in await curation.fetch("SELECT id, last_error FROM sources")}
    assert errors[SOURCE] == "entry 'x-1' refused: invalid_url"
    assert errors[OTHER].startswith("HTTPError") and "404" in errors[OTHER]
    assert [r["source_url"] for r in await curation.fetch("SELECT source_url FROM items")] == ["https://example.com/ok"]


async def test_a_nul_in_a_feed_is_left_out_or_refused_and_the_source_is_still_polled(curation, feed_server):
    """XML forbids `&#0;`, feedparser passes it on, and no Postgres text keeps it: an entry
    whose link (its id, with no guid) held one rolled the pass back, so the source stayed
    first in line, never polled (a review)."""
    items = ('<item><title>Null&#0;link</title><link>https://example.com/a&#0;b</link></item>'
             '<item><title>Fine&#0;title</title><link>https://example.com/fine</link></item>')
    feed_server.documents["/nul.rss"] = (200, f'<?xml version="1.0"?><rss version="2.0"><channel><title>N</title>'
                                               f'{items}</channel></rss>'.encode())
    async with curation.build().running():
        await curation.send(command(c.RegisterSource, SOURCE, url=f"{feed_server.base}/nul.rss", language="en"))
        await eventually(lambda: _polled(curation, 1), what="the poll")

    [source] = await curation.fetch("SELECT last_error FROM sources")
    assert source["last_error"] == "entry 'https://example.com/ab' refused: invalid_url"
    [item] = await curation.fetch("SELECT source_url, content->>'title' AS title FROM items")
    assert (item["source_url"], item["title"]) == ("https://example.com/fine", "Finetitle")


async def test_a_feed_on_a_loopback_or_private_address_is_refused_and_recorded_not_fetched(curation, feed_server):
    feed_server.documents["/news.rss"] = (200, rss(("n-1", "https://example.com/a", "A")))
    async with curation.build(feed_allow_private_addresses=False).running():  # the default
        await curation.send(command(c.RegisterSource, INTERNAL, url=f"{feed_server.base}/news.rss", language="en"))
        await eventually(lambda: _polled_ids(curation, INTERNAL), what="the poll", timeout=15)

    [source] = await curation.fetch("SELECT last_error FROM sources WHERE id = $1", INTERNAL)
    assert source["last_error"] == "RefusedAddress: 127.0.0.1 resolves to 127.0.0.1, which is not a public address"
    assert feed_server.requested == []  # refused before connecting
    assert await curation.fetch("SELECT id FROM items") == []


async def test_a_server_that_does_not_speak_http_fails_its_source_and_the_next_source_is_still_polled(
        curation, feed_server, not_http_server):
    feed_server.documents["/news.rss"] = (200, rss(("n-1", "https://example.com/a", "A")))
    async with curation.build().running():
        await curation.send(command(c.RegisterSource, WRONG_PORT, url=not_http_server.url, language="en"))
        await eventually(lambda: _true(not_http_server.connections), what="a first attempt", timeout=15)
        await curation.send(command(c.RegisterSource, OTHER, url=f"{feed_server.base}/news.rss", language="en"))
        # Were the failing pass rolled back, the broken source would stay first in line for ever
        # and the good one would never be polled.
        await eventually(lambda: _polled_ids(curation, WRONG_PORT, OTHER), what="both polls", timeout=15)

    errors = {r["id"]: r["last_error"] for r in await curation.fetch("SELECT id, last_error FROM sources")}
    assert errors == {WRONG_PORT: "BadStatusLine: SSH-2.0-OpenSSH_9.6\r\n", OTHER: None}
    assert [r["source_url"] for r in await curation.fetch("SELECT source_url FROM items")] == ["https://example.com/a"]


async def _polled(curation, sources: int, since=None) -> bool:
    rows = await curation.fetch(
        "SELECT count(*) AS n FROM sources WHERE last_polled_at >= coalesce($1::timestamptz, '-infinity')", since)
    return rows[0]["n"] >= sources


async def _exists(curation, item_id: str) -> bool:
    return bool(await curation.fetch("SELECT 1 FROM items WHERE id = $1", item_id))


async def _polled_ids(curation, *source_ids: str) -> bool:
    rows = await curation.fetch("SELECT id FROM sources WHERE last_polled_at IS NOT NULL AND id = ANY($1)",
                                list(source_ids))
    return len(rows) == len(source_ids)


async def _true(value: object) -> bool:
    return bool(value)
