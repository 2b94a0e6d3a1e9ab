"""The feed poller: the schedule pass that turns new entries of registered sources into drafts.

Each pass claims one source that is due (`FOR UPDATE SKIP LOCKED`, so replicas poll
different sources), fetches it, and in the same transaction drafts every entry whose
id (per source) and URL (anywhere) were not seen before. A failed fetch or a refused
entry is logged and recorded on the source, never silently dropped.
"""

import asyncio
import logging
import uuid
from datetime import datetime

from schemas.commands import Rejected
from schemas.curation import DraftedItem, ItemContent, ItemDrafted, Source
from services.curation import domain, feeds, fetching, store
from services.curation.config import CurationSettings
from services.curation.validation import MAX_CHARS
from services.runtime.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


async def poll_due_source(uow: UnitOfWork, settings: CurationSettings, events_topic: str, now: datetime) -> int:
    """One pass: claim a due source, fetch it, draft its new entries. Returns 1 if a source
    was polled (successfully or not), 0 if none was due."""
    source = await store.claim_due_source(uow.conn, now, settings.feed_poll_seconds)
    if source is None:
        return 0
    try:
        # The source stays locked while it is fetched, so the whole fetch has a deadline
        # (urllib's timeout bounds each socket operation only, and not DNS).
        entries = await asyncio.wait_for(_fetch_entries(settings, source.url), settings.feed_timeout_seconds)
    except Exception as failure:
        # and the pass commits; otherwise the source is never marked polled, and, first in
        # line forever, it would starve every other source (e.g. BadStatusLine, which is
        # neither OSError nor ValueError).
        error: str | None = f"{type(failure).__name__}: {str(failure) or 'no answer in time'}"
    else:
        problems = [await _draft(uow, events_topic, source, entry) for entry in entries]
        error = "; ".join(p for p in problems if p) or None
    if error:
        log.warning("feed source %s: %s", source.source_id, error[:500])
    await store.record_poll(uow.conn, source.source_id, now, error and error[:2000])
    return 1


async def _fetch_entries(settings: CurationSettings, url: str) -> list[feeds.Entry]:
    """Fetch and parse off the event loop: both block, parsing a large feed for a while."""
    body = await asyncio.to_thread(fetching.fetch, url, settings.feed_timeout_seconds, settings.feed_max_bytes,
                                   settings.feed_allow_private_addresses)
    return await asyncio.to_thread(feeds.parse, body)


async def _draft(uow: UnitOfWork, events_topic: str, source: Source, entry: feeds.Entry) -> str | None:
    """Draft `entry` unless seen before; returns why it was refused, if it was."""
    content = ItemContent(
        source_url=entry.url, title=entry.title[:MAX_CHARS["title"]], summary=entry.summary[:MAX_CHARS["summary"]],
        language=source.language, topics=source.topics, content_type=source.content_type,
    )
    # The same entry names the same item, whichever pass or replica drafts it.
    item_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{source.source_id}\n{entry.entry_id}").hex
    try:
        item = domain.draft(item_id, content, author=None)
    except Rejected as refused:
        return f"entry {entry.entry_id[:200]!r} refused: {refused.reason}"
    if await store.entry_known(uow.conn, source.source_id, entry.entry_id, entry.url):
        return None
    await store.save_item(uow.conn, item)
    await store.record_entry(uow.conn, source.source_id, entry.entry_id, entry.url, item.id)
    await uow.emit(events_topic, ItemDrafted, item.id, DraftedItem(item_id=item.id, source_id=source.source_id))
    return None
