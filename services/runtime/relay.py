"""The outbox relay: publishes what handlers wrote to the outbox, in order, then deletes it.

One relay per service is active at a time (a session advisory lock), so order per
key holds even with several replicas; the others wait as hot standbys. It is woken
by LISTEN/NOTIFY at commit and polls as a fallback, since notifications are lost
while it is disconnected. A crash between send and delete re-publishes a few
events: consumers are idempotent, so that costs nothing but bandwidth.

Each row gets a publication number just before it is first sent (`publisher` and
`publication` headers), rising in sending order and kept if it is sent again: a consumer
that remembers the highest number it applied per partition recognises a re-sent event
without keeping its id (ADR 0021, `Inbox.handle_batch_counted`).
"""

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from schemas.envelope import CONTENT_TYPE
from services.runtime import metrics
from services.runtime.kafka_client import security_options
from services.runtime.retry import backoff, is_transient
from services.runtime.settings import ServiceSettings

log = logging.getLogger(__name__)

# Rows numbered before (sent, perhaps, by a relay that died before deleting them) go first,
# in their numbers' order, then new rows in seq order, numbered as they are fetched.
_FETCH_NUMBERED = """SELECT seq, topic, key, payload, publication FROM outbox
WHERE publication IS NOT NULL ORDER BY publication LIMIT $1"""
# New rows fetched and numbered in one statement (one round trip, not two): numbers follow
# seq order. The counter is not written when there is nothing new (an idle poll).
_FETCH_NEW_NUMBERED = """WITH new AS (SELECT seq, row_number() OVER (ORDER BY seq) AS i
    FROM (SELECT seq FROM outbox WHERE publication IS NULL ORDER BY seq LIMIT $1) s),
n AS (UPDATE outbox_publications SET last = last + c.k
      FROM (SELECT count(*) AS k FROM new) c WHERE c.k > 0 RETURNING last, c.k)
UPDATE outbox o SET publication = n.last - n.k + new.i FROM n, new WHERE o.seq = new.seq
RETURNING o.seq, o.topic, o.key, o.payload, o.publication"""
_DELETE = "DELETE FROM outbox WHERE seq = ANY($1::bigint[])"
# Two index look-ups instead of a count(*) scan; an upper bound (rolled-back seqs leave gaps).
_BACKLOG = "SELECT coalesce(max(seq) - min(seq) + 1, 0) FROM outbox"
_HEADERS = [("content-type", CONTENT_TYPE.encode())]


class OutboxRelay:
    def __init__(
        self, dsn: str, service: str, bootstrap_servers: str,
        batch_size: int = 500, poll_seconds: float = 1.0, security: Mapping[str, Any] | None = None,
    ) -> None:
        self.dsn = dsn
        self.service = service
        self.bootstrap_servers = bootstrap_servers
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.security = dict(security or {})  # aiokafka's SASL/TLS options (kafka_client.py)
        self._wake = asyncio.Event()
        # Whether rows numbered before may be left (a relay that died after numbering): true
        # until a batch took all of them, and again on every new session (`_run_connected`),
        # since only the relay holding the lock numbers rows. Saves a round trip per batch.
        self._numbered_left = True
        self._backlog_at = -float("inf")  # when the backlog gauge was last read (loop time)

    @classmethod
    def for_settings(cls, settings: ServiceSettings) -> "OutboxRelay":
        """The relay of the service these settings configure, as its principal on Kafka."""
        return cls(settings.database_url, settings.service, settings.kafka_bootstrap_servers,
                   settings.outbox_batch_size, settings.outbox_poll_seconds, security_options(settings))

    async def run(self) -> None:
        """Relay until cancelled, reconnecting after transient faults."""
        attempt = 0
        while True:
            try:
                await self._run_connected()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not is_transient(error):
                    log.exception("outbox relay failed")
                delay = backoff(attempt, first=0.1, cap=5.0)
                log.warning("outbox relay reconnecting in %.2fs after %r", delay, error)
                attempt += 1
                await asyncio.sleep(delay)

    async def _run_connected(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers, enable_idempotence=True, linger_ms=5, **self.security,
        )
        conn = await asyncpg.connect(self.dsn)
        try:
            schema = await conn.fetchval("SELECT current_schema()")  # the outbox's, by search_path
            await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"{schema}:outbox-relay")
            await conn.add_listener(f"{schema}_outbox", lambda *_: self._wake.set())
            self._numbered_left = True
            await producer.start()
            log.info("outbox relay active")
            while True:
                self._wake.clear()  # before fetching: a commit after this wakes the next wait
                if await self.publish_batch(conn, producer) < self.batch_size:
                    await self._sleep_until_woken()
        finally:
            try:
                await producer.stop()
            finally:  # a stop cut short (Kafka frozen: ADR 0043) still lets go of the lock and LISTEN
                await conn.close()

    async def publish_batch(self, conn: asyncpg.Connection, producer: AIOKafkaProducer) -> int:
        rows, numbered_left = await self._numbered_batch(conn)
        if rows:
            # Sends are pipelined; the idempotent producer keeps them in order per partition.
            publisher = self.service.encode()
            sent = [await producer.send(r["topic"], r["payload"], key=r["key"].encode(), headers=[
                *_HEADERS, ("publisher", publisher), ("publication", str(r["publication"]).encode())])
                    for r in rows]
            await asyncio.gather(*sent)
            await conn.execute(_DELETE, [r["seq"] for r in rows])
            metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(rows))
        self._numbered_left = numbered_left  # every row numbered before is sent and deleted, or not
        # The gauge at most once per poll interval: a round trip per batch only for it was a
        # fifth of the relay's statements under a steady load of small batches.
        now = asyncio.get_running_loop().time()
        if now - self._backlog_at >= self.poll_seconds:
            self._backlog_at = now
            metrics.OUTBOX_BACKLOG.labels(self.service).set(await conn.fetchval(_BACKLOG))
        return len(rows)

    async def numbered_batch(self, conn: asyncpg.Connection) -> list[Any]:
        """Up to a batch of rows to send, each with its publication number: those numbered
        before first, then new ones, numbered now (committed before any is sent, so a re-send
        carries the same number). Only the relay holding the lock numbers, so the numbers
        rise in the order the rows are sent."""
        return (await self._numbered_batch(conn))[0]

    async def _numbered_batch(self, conn: asyncpg.Connection) -> tuple[list[Any], bool]:
        """`numbered_batch`, and whether rows numbered before may still be left once these are sent."""
        rows: list[Any] = []
        numbered_left = False
        if self._numbered_left:
            rows = list(await conn.fetch(_FETCH_NUMBERED, self.batch_size))
            numbered_left = len(rows) == self.batch_size
        if len(rows) < self.batch_size:
            new = await conn.fetch(_FETCH_NEW_NUMBERED, self.batch_size - len(rows))
            rows += sorted(new, key=lambda r: r["publication"])
        return rows, numbered_left

    async def _sleep_until_woken(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        except TimeoutError:
            pass
