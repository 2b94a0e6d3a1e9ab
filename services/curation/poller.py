"""The feed poller: a schedule that turns new entries of registered sources into drafts.

Each pass claims one active source that is due (`FOR UPDATE SKIP LOCKED`, so replicas
poll different sources), fetches it (conditionally, when the last fetch left an ETag or a
Last-Modified), and in the same transaction drafts at most `feed_max_entries` entries
whose id (per source) and URL (anywhere) were not seen before; the rest waits for the
next poll (which then fetches unconditionally). The URL an item keeps is the entry's
without `utm_*` parameters and fragment: the same article linked twice is one item. A
failed fetch is recorded on the source at every poll; a refused entry once
(in `feed_refusals` and the source's `last_error`), not at every poll. Nothing is
silently dropped.
"""

import asyncio
import logging
import uuid
from datetime import datetime

from schemas.commands import Rejected
from schemas.curation import DraftedItem, ItemContent, ItemDrafted, Source
from schemas.urls import without_tracking
from services.curation import domain, feeds, fetching, store
from services.curation.config import CurationSettings
from services.curation.validation import MAX_CHARS
from services.runtime.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

MAX_ENTRY_ID_BYTES = 1000


def entry_key(entry_id: str) -> str:
    """An entry's id as its key: a feed may send anything as one, and with the source's id it
    is a btree entry of about 2,700 bytes at most, so it is cut to 1,000 bytes in UTF-8 at a
    character's end (a lone surrogate, which no text column stores, as "?"; a NUL, which none
    stores either and XML forbids but feedparser passes on, left out)."""
    return entry_id.replace("\x00", "").encode("utf-8", "replace")[:MAX_ENTRY_ID_BYTES].decode("utf-8", "ignore")


async def poll_due_source(uow: UnitOfWork, settings: CurationSettings, events_topic: str, now: datetime) -> int:
    """One pass: claim a due source, fetch it (conditionally), draft its new entries (at most
    FEED_MAX_ENTRIES a poll). Returns 1 if a source was polled, successfully or not, 0 if
    none was due."""
    due = await store.claim_due_source(uow.conn, now, settings.feed_poll_seconds)
    if due is None:
        return 0
    source, etag, last_modified = due.source, due.etag, due.last_modified
    try:
        # The source stays locked while it is fetched, so the whole fetch has a deadline
        # (urllib's timeout bounds each socket operation only, and not DNS).
        fetched, entries = await asyncio.wait_for(
            _fetch_entries(settings, source.url, etag, last_modified), settings.feed_timeout_seconds)
    except Exception as failure:
        # Whatever one feed server does, it is recorded and the pass commits; otherwise the
        # source is never marked polled, and, first in line forever, it would starve every
        # other source (e.g. BadStatusLine, which is neither OSError nor ValueError).
        error: str | None = f"{type(failure).__name__}: {str(failure) or 'no answer in time'}"
    else:
        if fetched.body is not None:  # a 304 keeps the validators it was asked with
            etag, last_modified = fetched.etag, fetched.last_modified
        problems, drafted = [], 0
        for entry in entries:
            if drafted == settings.feed_max_entries:  # the rest waits for the next poll
                log.info("feed source %s: %d drafts this poll, the rest at the next", source.source_id, drafted)
                etag = last_modified = None  # so that a 304 cannot hide the rest
                break
            outcome = await _draft(uow, events_topic, source, entry, now, settings.tracked_link)
            drafted += outcome is True
            problems += [outcome] if isinstance(outcome, str) else []
        error = "; ".join(problems) or None
    if error:
        log.warning("feed source %s: %s", source.source_id, error[:500])
    await store.record_poll(uow.conn, source.source_id, now, error and error[:2000], etag, last_modified)
    return 1


async def _fetch_entries(settings: CurationSettings, url: str, etag: str | None,
                         last_modified: str | None) -> tuple[fetching.Fetched, list[feeds.Entry]]:
    """Fetch and parse off the event loop: both block, parsing a large feed for a while."""
    fetched = await asyncio.to_thread(fetching.fetch, url, settings.feed_timeout_seconds, settings.feed_max_bytes,
                                      settings.feed_allow_private_addresses, etag, last_modified)
    if fetched.body is None:
        return fetched, []
    return fetched, await asyncio.to_thread(feeds.parse, fetched.body, fetched.headers, fetched.url)


async def _draft(uow: UnitOfWork, events_topic: str, source: Source, entry: feeds.Entry,
                 now: datetime, tracked_link: str) -> bool | str:
    """Draft `entry` unless seen before: True if drafted, False if not, and why it was
    refused the first time it is."""
    entry_id = entry_key(entry.entry_id)
    try:
        url = without_tracking(entry.url)
    except ValueError:
        url = entry.url  # malformed: the draft's own check refuses it as invalid_url
    content = ItemContent(
        source_url=url, title=entry.title[:MAX_CHARS["title"]], summary=entry.summary[:MAX_CHARS["summary"]],
        language=source.language, topics=source.topics, content_type=source.content_type,
    )
    # The same entry names the same item, whichever pass or replica drafts it.
    item_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{source.source_id}\n{entry_id}").hex
    try:
        item = domain.draft(item_id, content, author=None, tracked_link=tracked_link,
                            title_from_text=entry.title_from_text)
    except Rejected as refused:
        if await store.record_refusal(uow.conn, source.source_id, entry_id, refused.reason, now):
            return f"entry {entry_id[:200]!r} refused: {refused.reason}"
        return False  # recorded at an earlier poll
    if await store.entry_known(uow.conn, source.source_id, entry_id, url):
        return False
    await store.save_item(uow.conn, item)
    await store.record_entry(uow.conn, source.source_id, entry_id, url, item.id)
    await uow.emit(events_topic, ItemDrafted, item.id, DraftedItem(item_id=item.id, source_id=source.source_id))
    return True
