"""`GET /r/{code}`: the tracked-link redirect. Only stored codes resolve (never an open
redirect); every resolution emits a click event, with a visitor hash under the day's
key (visitor_salts.py) instead of the address, and `bot` set for whatever is not a person's click: bots and
link-preview fetchers, `HEAD` and prefetch requests (visitors.py). `/r/{code}/` is the same
link; a path that cannot be a code (a NUL or other control byte, a wrong length or
alphabet) is 404 before the database is asked. `Location` is always ASCII. What does not
redirect is answered with a problem document (`unknown_link` 404, `item_retracted` 410,
`method_not_allowed` 405 with `Allow`, `unavailable` 503), as the APIs answer."""

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import asyncpg
from starlette.types import Receive, Scope, Send

from schemas.distribution import Click, LinkClicked
from schemas.urls import to_ascii
from services.distribution import links, share_store, visitor_salts, visitors
from services.distribution.config import DistributionSettings, DistributionTopics
from services.runtime.api.problems import problem_response
from services.runtime.batched_outbox import BatchedOutbox
from services.runtime.unit_of_work import UnitOfWork


class Redirect:
    """A small ASGI app; the service mounts it under /r/."""

    def __init__(self, settings: DistributionSettings, topics: DistributionTopics,
                 pool: Callable[[], asyncpg.Pool | None]) -> None:
        self.settings = settings
        self.topics = topics
        self.pool = pool  # the service's, once it has started
        self.trusted_proxies = visitors.trusted_networks(settings.trusted_proxies)
        self.keys = visitor_salts.DailyKeys(settings.click_secret.get_secret_value())
        # Throughput work bounded inside the process: redirects past this many wait here, and
        # the consumers (a withdrawal) find a connection free in the pool at once. The writer
        # of the clicks (ADR 0041) counts as one of them.
        self.connections = asyncio.Semaphore(settings.redirect_connections)
        self.clicks = BatchedOutbox(pool, gate=self.connections)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            return await _refuse(scope, receive, send, 405, "method_not_allowed", {"allow": "GET, HEAD"})
        code = scope["path"].removeprefix("/r/").removesuffix("/")
        if not links.CODE.fullmatch(code):
            return await _refuse(scope, receive, send, 404, "unknown_link")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"x-forwarded-for"]
        address = visitors.client_address((scope.get("client") or ("",))[0], forwarded, self.trusted_proxies)
        # One round trip of its own: the read. The click's outbox row is written with those of
        # concurrent redirects, in one statement after the connection went back to the pool
        # (BatchedOutbox); once a day, the day's salt is read or made first.
        pool = self.pool()
        if pool is None:  # not started yet: the readiness endpoint says so too
            return await _refuse(scope, receive, send, 503, "unavailable")
        async with self.connections, pool.acquire() as conn:
            share = await share_store.resolve(conn, code)
            if share is None:
                return await _refuse(scope, receive, send, 404, "unknown_link")
            if share.item_status == "retracted":
                return await _refuse(scope, receive, send, 410, "item_retracted")
            # Shares made before targets were stored (migration 002) fall back to the item's URL.
            try:
                target = links.redirect_target(share.source_url, share.network, share.campaign_id, share.item_id) \
                    if share.target_url is None else to_ascii(share.target_url)  # stored before it was ASCII
            except ValueError:  # a host IDNA refuses: no Location can be written for it
                return await _refuse(scope, receive, send, 404, "unknown_link")
            if not links.is_web_url(target):  # curation checks URLs; the redirect does not rely on it alone
                return await _refuse(scope, receive, send, 404, "unknown_link")
            now = datetime.now(UTC)
            key = await self.keys.key(conn, now.date())
        await self.clicks.emit(self.topics.events, LinkClicked(
            source=self.settings.source, subject=share.share_id, data=Click(
                share_id=share.share_id, item_id=share.item_id, campaign_id=share.campaign_id,
                network=share.network, bot=not visitors.is_human_click(scope["method"], headers), clicked_at=now,
                visitor=links.visitor_hash(key, share.share_id, address, headers.get("user-agent")))))
        await send({"type": "http.response.start", "status": 302, "headers": [
            (b"content-length", b"0"), (b"location", target.encode("ascii")), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": b""})


    async def forget_past_salts(self, uow: UnitOfWork, now: datetime) -> int:
        """The schedule's job: past days' salts deleted, in the database and in this process."""
        self.keys.forget_before((now - visitor_salts.GRACE).date())
        return await visitor_salts.forget(uow.conn, now)


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, reason: str,
                  headers: Mapping[str, str] | None = None) -> None:
    """An RFC 9457 problem document with its machine-readable `reason`, as the APIs answer
    (problems.py); a 405 names the methods the redirect takes in `Allow` (RFC 9110 §15.5.6)."""
    await problem_response(status, reason, headers=headers)(scope, receive, send)
