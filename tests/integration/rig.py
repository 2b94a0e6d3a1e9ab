"""The one test rig every service's integration tests use: the service on a scratch schema
(its own login role) and fresh topics, on the real Kafka and Postgres.

A service's conftest subclasses `ServiceRig` with what plays the other services and the
outside world for it (HR joins people, consent announces a yes, …) and makes its fixture,
named after the service, with `make_rig`:

    @pytest.fixture
    async def consent(stack, scratch_schema, make_topics):
        async with make_rig(ConsentRig, stack, scratch_schema, make_topics, build_service,
                            ConsentSettings, ConsentTopics, outbox_poll_seconds=0.2) as rig:
            async with rig.running():
                yield rig

What a test does with it:
- `build(**changes)` a service (again: a restart, a second replica); `running()` one
  without HTTP; `serving()` one with its HTTP server on `settings.http_port`;
- `send(*commands)` to the service's command topic; `send_to(topic, *events)` anywhere, as
  the service that owns that topic would; `send_raw(topic, key, value)` bytes as they come;
- `fetch`, `fetchval`, `count`, `until(sql, expected)`: its own tables;
- `emitted(match)`, `until_emitted(match, at_least)`: what it published on `topics.events`;
- `get(path)`, `call(method, path, json, token)`: its HTTP server, without following redirects;
  `management(path)`: its management port (/health, /ready, /metrics).
"""

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import httpx

from harness.kafka import eventually, produce, read_topic
from harness.processes import free_port
from schemas.envelope import CloudEvent
from services.runtime.identity import OidcSettings
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
R = TypeVar("R", bound="ServiceRig")
# Consent records' `sequence` (ADR 0019) as the consent service would give them: each one
# higher than every one before, in this process and in any earlier run.
_SEQUENCES = itertools.count(time.time_ns())


def next_sequence() -> int:
    """A consent record's sequence above every one given so far."""
    return next(_SEQUENCES)


def new_id(prefix: str) -> str:
    """A fresh id of the platform's shape (8–64 of [A-Za-z0-9_-])."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class Clock:
    """A clock the test sets and advances; services take it as `clock`."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class ServiceRig:
    settings: ServiceSettings
    topics: Any  # the service's Topics dataclass; `topics.commands` in, `topics.events` out
    bootstrap: str
    build_service: Callable[..., Service]
    clock: Clock | None = None  # given to the service when set; else it reads the wall clock
    admin_dsn: str = ""  # the database's superuser, to look across schemas
    # Whom the service's HTTP API trusts (`build_service(..., identity=)`): the test issuer.
    identity: OidcSettings | None = None
    service: Service | None = field(default=None, repr=False)  # the one `running`/`serving` started last
    http: httpx.AsyncClient | None = field(default=None, repr=False)  # while `serving`: one client, kept alive

    # --- the service ---------------------------------------------------------------------

    @property
    def schema(self) -> str:
        """The service's schema (and login role, and service name)."""
        return self.settings.service

    def build(self, clock: Callable[[], datetime] | None = None, **changes: Any) -> Service:
        """A service instance on `clock` (default: the rig's, else the wall clock), with
        `changes` to its settings; call again for a restart or a second replica on the same
        schema and topics."""
        settings = self.settings.model_copy(update=changes)
        clock = clock or self.clock
        options = {**({"clock": clock} if clock else {}), **({"identity": self.identity} if self.identity else {})}
        return self.build_service(settings, self.topics, **options)

    @asynccontextmanager
    async def running(self, clock: Callable[[], datetime] | None = None, **changes: Any) -> AsyncIterator[Service]:
        """The service consuming and relaying, without its HTTP server."""
        async with self.build(clock, **changes).running() as service:
            self.service = service
            yield service

    @asynccontextmanager
    async def serving(self, clock: Callable[[], datetime] | None = None, **changes: Any) -> AsyncIterator[Service]:
        """The service with its HTTP server on `settings.http_port`, until the block ends."""
        service = self.build(clock, **changes)
        task = asyncio.create_task(service.run())
        self.service = service

        async def ready() -> bool:
            if task.done():
                task.result()  # it failed to start: say why
            try:
                return (await self.management("/ready")).status_code == 200
            except httpx.TransportError:
                return False

        try:
            await eventually(ready, what=f"{self.settings.service} ready")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.settings.http_port}",
                                         follow_redirects=False, timeout=10) as self.http:
                yield service
        finally:
            self.http = None
            if service.server is not None:
                service.server.should_exit = True
            await task

    # --- messages in -----------------------------------------------------------------------

    async def send(self, *commands: CloudEvent[Any]) -> None:
        """Commands to the service, keyed by subject, as a sender would."""
        await self.send_to(self.topics.commands, *commands)

    async def send_to(self, topic: str, *events: CloudEvent[Any]) -> None:
        """Events on `topic`, keyed by subject, as the system that owns it would send them."""
        await produce(self.bootstrap, topic, [(e.subject.encode(), e.to_bytes()) for e in events])

    async def send_raw(self, topic: str, key: bytes, value: bytes | None) -> None:
        await produce(self.bootstrap, topic, [(key, value)])

    # --- its tables ------------------------------------------------------------------------

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.settings.database_url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    async def fetchval(self, sql: str, *args: Any) -> Any:
        rows = await self.fetch(sql, *args)
        return rows[0][0] if rows else None

    async def count(self, relation: str, *args: Any) -> int:
        """Rows of `relation`: a table, or a table with a WHERE clause (`$1`… are `args`)."""
        return int(await self.fetchval(f"SELECT count(*) FROM {relation}", *args))

    async def until(self, query: str | Callable[[], Awaitable[Any]], expected: Any, *args: Any, what: str = "",
                    timeout: float = 30.0) -> None:
        """Wait until `query` (SQL with one value, `$1`… being `args`; or a coroutine
        function) gives `expected`."""
        async def done() -> bool:
            value = await (self.fetchval(query, *args) if isinstance(query, str) else query())
            return bool(value == expected)

        await eventually(done, timeout=timeout, what=what or f"{query} = {expected!r}")

    # --- messages out ----------------------------------------------------------------------

    async def emitted(self, match: Callable[[dict[str, Any]], bool] = lambda e: True,
                      topic: str | None = None) -> list[dict[str, Any]]:
        """What the service has published on `topic` (default: its events) so far, as JSON,
        that `match` accepts; tombstones are left out."""
        records = await read_topic(self.bootstrap, topic or self.topics.events, at_least=0, timeout=0.5, settle=0.3)
        return [e for e in (json.loads(r.value) for r in records if r.value is not None) if match(e)]

    async def until_emitted(self, match: Callable[[dict[str, Any]], bool], at_least: int = 1,
                            timeout: float = 20.0, what: str = "events", topic: str | None = None
                            ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []

        async def enough() -> bool:
            found[:] = await self.emitted(match, topic)
            return len(found) >= at_least

        await eventually(enough, timeout=timeout, what=f"{at_least} × {what}")
        return found

    # --- HTTP ------------------------------------------------------------------------------

    async def call(self, method: str, path: str, json_body: Any = None, token: str | None = None,
                   headers: dict[str, str] | None = None, timeout: float = 10) -> httpx.Response:
        """One request to the service's HTTP server; redirects are not followed; `timeout` in
        seconds (a long task, on a busy machine, may need more)."""
        sent = {**(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
        if self.http is not None:
            return await self.http.request(method, path, json=json_body, headers=sent, timeout=timeout)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.settings.http_port}",
                                     follow_redirects=False, timeout=timeout) as client:
            return await client.request(method, path, json=json_body, headers=sent)

    async def get(self, path: str, token: str | None = None, headers: dict[str, str] | None = None
                  ) -> httpx.Response:
        return await self.call("GET", path, token=token, headers=headers)

    async def management(self, path: str) -> httpx.Response:
        """GET `path` on the management port (/health, /ready, /metrics)."""
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.settings.management_port}",
                                     timeout=10) as client:
            return await client.get(path)


@asynccontextmanager
async def make_rig(rig_type: type[R], stack: Any, scratch_schema: Any, make_topics: Any,
                   build_service: Callable[..., Service], settings_type: type[ServiceSettings], topics_type: type,
                   *, partitions: int = 3, clock: Clock | None = None, identity: OidcSettings | None = None,
                   **settings: Any) -> AsyncIterator[R]:
    """A rig of `rig_type` on a fresh schema and a fresh topic for every field of
    `topics_type`, the service's dead-letter topic included; `settings` change the service's.
    Its HTTP and management ports are free, and its public base URL points there; its HTTP API trusts
    `identity` (the `issuer` fixture's `issuer.settings()`)."""
    schema, dsn = await scratch_schema()
    topics = topics_type(*await make_topics(*[f.name for f in fields(topics_type)], partitions=partitions))
    port = free_port()
    defaults: dict[str, Any] = {"http_port": port, "management_port": free_port(), "outbox_poll_seconds": 0.2,
                                "retry_deadline_seconds": 30}
    if "public_base_url" in settings_type.model_fields:
        defaults["public_base_url"] = f"http://127.0.0.1:{port}"
    service_settings = settings_type(service=schema, database_url=dsn, kafka_bootstrap_servers=stack.kafka_bootstrap,
                                     **{**defaults, **settings})
    await make_topics(service_settings.dead_letter_topic, partitions=1, exact=True)
    yield rig_type(service_settings, topics, stack.kafka_bootstrap, build_service, clock, stack.admin_dsn, identity)
