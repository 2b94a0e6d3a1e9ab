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
from functools import partial

import asyncpg
from starlette.types import Receive, Scope, Send

from schemas.distribution import Click, LinkClicked
from schemas.urls import to_ascii
from services.distribution import links, share_store, visitor_salts, visitors
from services.distribution.config import DistributionSettings, DistributionTopics
from services.runtime.api.app import RETRY_AFTER, RETRY_SECONDS
from services.runtime.api.problems import log_unexpected, problem_response
from services.runtime.batched_outbox import BatchedOutbox, WriterStopped
from services.runtime.retry import is_transient, retry_transient
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
            return await _refuse(scope, receive, send, 503, "unavailable", RETRY_AFTER)
        try:
            share, key, now = await retry_transient(partial(self._look_up, pool, code), RETRY_SECONDS)
        except Exception as error:
            return await _failed(scope, receive, send, error)
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
        try:
            await self.clicks.emit(self.topics.events, LinkClicked(
                source=self.settings.source, subject=share.share_id, data=Click(
                    share_id=share.share_id, item_id=share.item_id, campaign_id=share.campaign_id,
                    network=share.network, bot=not visitors.is_human_click(scope["method"], headers), clicked_at=now,
                    visitor=links.visitor_hash(key, share.share_id, address, headers.get("user-agent")))))
        except Exception as error:
            return await _failed(scope, receive, send, error)
        await send({"type": "http.response.start", "status": 302, "headers": [
            (b"content-length", b"0"), (b"location", target.encode("ascii")), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": b""})

    async def _look_up(self, pool: asyncpg.Pool, code: str) -> tuple[share_store.TrackedLink | None, bytes, datetime]:
        """The share behind `code` (None if none), the day's visitor key and the time."""
        async with self.connections, pool.acquire() as conn:
            share = await share_store.resolve(conn, code)
            now = datetime.now(UTC)
            return share, (await self.keys.key(conn, now.date()) if share is not None else b""), now

    async def forget_past_salts(self, uow: UnitOfWork, now: datetime) -> int:
        """The schedule's job: past days' salts deleted, in the database and in this process."""
        self.keys.forget_before((now - visitor_salts.GRACE).date())
        return await visitor_salts.forget(uow.conn, now)


async def _failed(scope: Scope, receive: Receive, send: Send, error: Exception) -> None:
    """The database away (a transient fault, retried as the API retries a query): 503 with
    `Retry-After`; a bug: logged without the request (problems.log_unexpected), 500."""
    if is_transient(error) or isinstance(error, WriterStopped):
        return await _refuse(scope, receive, send, 503, "unavailable", RETRY_AFTER)
    log_unexpected(scope, error)
    await _refuse(scope, receive, send, 500, "internal_error")


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, reason: str,
                  headers: Mapping[str, str] | None = None) -> None:
    """An RFC 9457 problem document with its machine-readable `reason`, as the APIs answer
    (problems.py); a 405 names the methods the redirect takes in `Allow` (RFC 9110 §15.5.6)."""
    await problem_response(status, reason, _DETAILS.get(reason, ""), headers=headers)(scope, receive, send)


_DETAILS = {  # what a person who followed a link, or a client, can do about it (RFC 9457 §3.1.4)
    "method_not_allowed": "A tracked link answers GET and HEAD only.",
    "unknown_link": "No shared link has this address; check that it was copied whole.",
    "item_retracted": "The content this link shared has been withdrawn by its publisher.",
    "unavailable": "Links cannot be followed just now; try again in a few seconds.",
}
