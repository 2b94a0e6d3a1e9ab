"""One service process: its broker and subscribers, database pool and migrations,
outbox relay and HTTP endpoints. Each service's app.py builds one `Service`.

HTTP comes on two ports of one server: HTTP_PORT is public (the API under /api/,
distribution's redirect under /r/); MANAGEMENT_PORT answers /health, /ready and /metrics,
which say how the service and its broker and database are doing and are nobody else's
business (review S13). A service refuses to start, in one log line, while its settings
have `refusals` (development secrets outside local mode, K_ANONYMITY below its floor).

Delivery is at-least-once: every subscriber acks only after its handler returned
(AckPolicy.NACK_ON_ERROR, auto-commit off; see routing.py), and handlers go through the
`Inbox`, which makes each effect happen once. Metrics' busy counted topics run in a
consumer loop of our own under the same rules (`ServiceRouter.consume_counted`,
pipelined.py, ADR 0026), started once the broker runs and stopped before it stops.
"""

import asyncio
import contextlib
import dataclasses
import gc
import logging
import socket
import traceback
from collections.abc import AsyncIterator, Awaitable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import asyncpg
import uvicorn
import uvloop
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.asgi.types import ASGIApp, Receive, Scope, Send
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.specification import AsyncAPI

from schemas import CONTRACTS_VERSION
from schemas.platform import non_personal_topics
from services.runtime import metrics
from services.runtime.api.problems import problem_response
from services.runtime.dead_letters import DeadLetters
from services.runtime.http import health_routes
from services.runtime.inbox import Inbox, pruner
from services.runtime.kafka_client import broker_security, security_options
from services.runtime.logs import configure_logging
from services.runtime.migrate import folders, migrate
from services.runtime.pipelined import PipelinedSubscriber, young_collection_threshold
from services.runtime.priority import lower_priority
from services.runtime.relay import OutboxRelay
from services.runtime.routing import ServiceRouter, decode_json
from services.runtime.scheduler import Schedule
from services.runtime.settings import ServiceSettings

if TYPE_CHECKING:
    from services.runtime.api import HttpApi

log = logging.getLogger(__name__)

_GRACEFUL_SHUTDOWN_SECONDS = 15  # of the pods' terminationGracePeriodSeconds: 30 (deploy/k8s)


@dataclasses.dataclass(frozen=True)
class Bounds:
    """How long a start waits for Kafka and for the database to answer, and how long a
    graceful stop gives each part, in seconds (ADR 0043). With the requests' 15 s the stop
    fits the pods' 30 s grace period (27 s) even when Kafka or the database no longer answers."""

    connect: float = 10.0  # Kafka's metadata; the pool's first connections; our consumers' start
    consumers_stop: float = 3.0  # the consumer loops of our own: each LeaveGroup and commit
    broker_stop: float = 3.0  # FastStream's subscribers (the same) and its producer's flush
    tasks_stop: float = 3.0  # the outbox relay (its producer's flush) and the schedules
    database_stop: float = 3.0  # the HTTP API's database work, then the pool (then terminated)


def values_kept_from(topics: Any) -> frozenset[str]:
    """The topics, by the names this service uses, whose dead letters may keep their value:
    those declared `personal = false` in schemas/platform.toml."""
    plain = non_personal_topics()
    renamed = {getattr(topics, f.name) for f in dataclasses.fields(topics) if f.default in plain} if topics else set()
    return plain | renamed


class RefusedToStart(RuntimeError):
    """The service may not run as configured: the settings have refusals
    (`ServiceSettings.refusals`), a port is taken, DATABASE_URL is no URI; the message says
    which (never a secret's value)."""


class UnreachableAtStart(RuntimeError):
    """The database or Kafka did not answer within `Bounds.connect` at start; the message
    names which, and where (no credentials)."""


class Service:
    def __init__(
        self, settings: ServiceSettings, router: KafkaRouter, migrations: Path | None = None,
        schedules: Sequence[Schedule] = (), topics: Any = None,
    ) -> None:
        """`topics`: the service's topics (a dataclass whose fields default to the declared
        names); dead letters keep the value only of what comes from a topic declared not
        personal, under whatever name a test gave it (ADR 0018)."""
        self.settings = settings
        self.schedules = [*schedules, Schedule("inbox-retention", pruner(settings.inbox_retention_days), 3600)]
        self.migrations = folders(settings.service, migrations)
        self.dead_letters = DeadLetters(settings.service, settings.dead_letter_topic, values_kept_from(topics))
        # The consumer loops of our own a ServiceRouter declared (`consume_counted`), and
        # their subscribers as documented; a plain KafkaRouter has neither.
        self.router = router
        self.pipelined: list[PipelinedSubscriber] = getattr(router, "pipelined", [])
        documented: KafkaRouter | None = getattr(router, "documented", None)
        self.consumers: list[asyncio.Task[None]] = []
        self.own_process = False  # set by main(): the garbage collector is tuned for this process
        self.bounds = Bounds()
        self.left_behind: list[str] = []  # what the last stop cancelled when its bound was up
        self.broker = KafkaBroker(
            settings.kafka_bootstrap_servers, client_id=settings.service,
            security=broker_security(settings),  # the service's own principal (SASL) when configured
            enable_idempotence=True, ack_policy=AckPolicy.NACK_ON_ERROR,
            logger=logging.getLogger("faststream.broker"),  # ours, so it logs JSON through the root handler
            log_level=logging.DEBUG,  # FastStream's per-message "Received"/"Processed" lines
            middlewares=[self.dead_letters], routers=[router], decoder=decode_json,
        )
        self.dead_letters.broker = self.broker
        self.pool: asyncpg.Pool | None = None
        self.inbox: Inbox | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.mounts: dict[str, ASGIApp] = {}
        self.api: HttpApi | None = None
        self.server: uvicorn.Server | None = None
        self.app = AsgiFastStream(
            self.broker,
            asgi_routes=health_routes({"broker": self._broker_ok, "database": self._database_ok,
                                       "relay_and_schedules": self._background_ok}),
            # No lifespan hooks: the lifespan is ours (`lifespan`), not this app's.
            # The consumers of our own (`ServiceRouter.consume_counted`) documented from a
            # broker that is never started, beside the running one's subscribers.
            specification=AsyncAPI(
                *([KafkaBroker(settings.kafka_bootstrap_servers, routers=[documented])]
                  if documented is not None and self.pipelined else []),
                title=f"advocacy {settings.service}", version=CONTRACTS_VERSION,
                description=f"Topics the {settings.service} service consumes and publishes; CloudEvents 1.0 JSON.",
            ),
        )

    def refuse_unless_allowed(self) -> None:
        """Raises RefusedToStart if the settings may not run (`ServiceSettings.refusals`)."""
        if refusals := self.settings.refusals():
            raise RefusedToStart(f"{self.settings.service} refuses to start: {'; '.join(refusals)}")

    async def start(self) -> None:
        """Before the broker consumes: database ready, inbox handed to the subscribers, relay running.
        Raises RefusedToStart first if the settings may not run."""
        self.refuse_unless_allowed()
        for name in self.settings.secrets_left_at_default():  # local mode: allowed, not unnoticed
            log.warning("%s is the development default: set a secret of your own outside a laptop", name)
        await self._kafka_answers()
        self.pool = await self._connected_pool()
        async with self.pool.acquire() as conn:
            await migrate(conn, self.migrations)
        if self.api is not None:
            await self.api.start(self.pool)
        self.inbox = Inbox(self.pool, self.settings.service, self.settings.source, self.dead_letters,
                           self.settings.retry_deadline_seconds)
        if isinstance(self.router, ServiceRouter):  # a plain KafkaRouter's subscribers take none
            self.router.inbox = self.inbox
        relay = OutboxRelay.for_settings(self.settings)
        self.tasks = [asyncio.create_task(relay.run(), name="outbox-relay")] + [
            asyncio.create_task(s.run(self.pool, self.settings.source), name=f"schedule-{s.name}")
            for s in self.schedules
        ]

    async def _kafka_answers(self) -> None:
        """Raises UnreachableAtStart unless Kafka answers a metadata request within
        `Bounds.connect` (aiokafka would wait 40 s). The broker's own start is not what is
        bounded: cancelled or failed half-way, it leaves the aiokafka producer it created
        unclosed (FastStream keeps it only once it has started)."""
        servers = self.settings.kafka_bootstrap_servers
        # aiokafka asks the servers one after another, each for up to its request timeout: one
        # frozen server of three must leave time for the others, within the bound.
        each = self.bounds.connect / max(1, len(servers.split(",")))
        admin = AIOKafkaAdminClient(bootstrap_servers=servers, client_id=self.settings.service,
                                    request_timeout_ms=int(each * 1000), **security_options(self.settings))
        try:
            async with asyncio.timeout(self.bounds.connect + 1):  # a backstop: aiokafka's own comes first
                await admin.start()
        except (TimeoutError, KafkaError) as error:
            where = f"{self.settings.service}: Kafka at {servers}"
            raise UnreachableAtStart(_unanswered(where, self.bounds.connect, error)) from None
        finally:
            await admin.close()

    async def _connected_pool(self) -> asyncpg.Pool:
        """The database pool, its first connections made within `Bounds.connect` (asyncpg
        would wait 60 s for each). Raises UnreachableAtStart naming the database's host."""
        try:
            async with asyncio.timeout(self.bounds.connect):
                return await asyncpg.create_pool(self.settings.database_url, min_size=2, max_size=10,
                                                 reset=_end_transaction)
        except ValueError:  # asyncpg's words would quote the URI, password and all
            raise RefusedToStart(f"{self.settings.service} refuses to start: DATABASE_URL is not a URI libpq can read "
                                 "(percent-encode : / ? # @ % in its user and password)") from None
        except (TimeoutError, OSError) as error:
            where = f"{self.settings.service}: the database at {_database_host(self.settings.database_url)}"
            raise UnreachableAtStart(_unanswered(where, self.bounds.connect, error)) from None

    async def start_consumers(self) -> None:
        """Once the broker runs (dead letters are sent through it): the consumer loops of our
        own (`ServiceRouter.consume_counted`), each returned once its consumer has started, as a
        FastStream subscriber's does. Raises UnreachableAtStart if one has not within
        `Bounds.connect` (it would try again for ever)."""
        assert self.inbox is not None, "start() runs first"
        if self.own_process:
            # What exists once started (modules, schemas, the app: ~120,000 objects) is never
            # garbage: a full collection no longer walks it every time a batch of decoded
            # events survives a young one (that walking cost metrics' consumer 8-14 µs an
            # event, more than validating it; ADR 0026). Collected first: with a young threshold
            # of hundreds of thousands, starting may have left cyclic garbage that no collection
            # has met yet, which frozen would never be freed.
            gc.collect()
            gc.freeze()
        inbox = self.inbox
        options = {"bootstrap_servers": self.settings.kafka_bootstrap_servers, "client_id": self.settings.service,
                   **security_options(self.settings)}
        started = [asyncio.Event() for _ in self.pipelined]
        self.consumers = [asyncio.create_task(p.run(inbox, options, event), name=f"consumer-{p.name}")
                          for p, event in zip(self.pipelined, started, strict=True)]
        try:
            async with asyncio.timeout(self.bounds.connect):
                for event in started:
                    await event.wait()
        except TimeoutError:
            waiting = [p.name for p, event in zip(self.pipelined, started, strict=True) if not event.is_set()]
            raise UnreachableAtStart(f"{self.settings.service}: its consumers {', '.join(waiting)} did not start "
                                     f"within {self.bounds.connect:g} s") from None

    async def stop_consumers(self) -> None:
        """Before the broker stops: the consumer loops of our own, a transaction in flight
        rolled back (its records come again)."""
        await _cancelled(self.consumers)
        self.consumers = []

    async def stop(self) -> None:
        """After the broker stopped consuming: stop the relay and schedules, close the pool,
        each within its `Bounds` (a pool not closed by then is terminated)."""
        await self._within(self.bounds.tasks_stop, "the outbox relay and schedules", _cancelled(self.tasks))
        closed = await self._within(self.bounds.database_stop, "the database's pool", self._close_database())
        if not closed and self.pool is not None:
            self.pool.terminate()

    async def _close_database(self) -> None:
        if self.api is not None:
            await self.api.stop()
        if self.pool is not None:
            await self.pool.close()

    async def _within(self, seconds: float, what: str, stopping: Awaitable[object]) -> bool:
        """Awaits `stopping` for up to `seconds`; False, with a warning, if it had not finished
        (it is cancelled: a stop goes on without what does not answer)."""
        try:
            async with asyncio.timeout(seconds):
                await stopping
        except TimeoutError:
            log.warning("%s: %s did not stop within %g s; stopping without it", self.settings.service, what, seconds)
            self.left_behind.append(what)
            return False
        return True

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["Service"]:
        """The service without its HTTP server (for tests and embedding), and what the ASGI
        lifespan runs between startup and shutdown: on entry everything has started, on exit
        everything has stopped, also when starting failed half-way; what a stop's bound cut
        short is in `left_behind`."""
        self.left_behind = []
        try:
            await self.start()
            await self.broker.start()
            await self.start_consumers()
            yield self
        finally:
            await self._within(self.bounds.consumers_stop, "the consumers of its own", self.stop_consumers())
            await self._within(self.bounds.broker_stop, "the broker's subscribers and producer", self.broker.stop())
            await self.stop()

    def mount(self, prefix: str, app: ASGIApp) -> None:
        """Serve `app` for every HTTP path under `prefix` (the redirect's /r/{code})."""
        self.mounts[prefix] = app

    def mount_api(self, api: "HttpApi") -> None:
        """Serve the service's HTTP API (services/runtime/api) under its prefix (`/api/`);
        it gets the database pool when the service starts and lets go of it when it stops."""
        self.api = api
        self.mount(api.prefix + "/", api)

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Both ports' requests, told apart by the port they came in on; the lifespan."""
        if scope["type"] == "lifespan":
            return await self.lifespan(receive, send)
        server = scope.get("server")
        if server and server[1] == self.settings.management_port:
            return await self.management(scope, receive, send)
        return await self.public(scope, receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        """The ASGI lifespan (uvicorn's startup and shutdown): the service `running()` from
        one to the other. Startup completes only once every subscriber consumes, so uvicorn
        serves nothing before (/ready included), and a shutdown never meets a subscriber
        still starting. FastStream's own lifespan reported startup complete before its broker
        had started: a stop then left a consumer loop without its consumer, which FastStream's
        supervisor restarted for ever, beside an aiokafka consumer nobody stopped."""
        await receive()  # lifespan.startup
        started = False
        try:
            async with self.running():
                started = True
                log.info("%s started: every subscriber consumes", self.settings.service)
                await send({"type": "lifespan.startup.complete"})
                await receive()  # lifespan.shutdown
            if self.left_behind:
                log.warning("%s stopped, leaving behind what did not stop in time: %s",
                            self.settings.service, "; ".join(self.left_behind))
            else:
                log.info("%s stopped: subscribers, relay and pool closed", self.settings.service)
        except BaseException as error:
            if started:
                await send({"type": "lifespan.shutdown.failed", "message": traceback.format_exc()})
            elif isinstance(error, RefusedToStart | UnreachableAtStart):
                log.critical("%s", error)  # one line says it all, as a refusal before the start does
                await send({"type": "lifespan.startup.failed", "message": ""})
            else:  # uvicorn logs the traceback, then exits with 3
                await send({"type": "lifespan.startup.failed", "message": traceback.format_exc()})
            raise
        await send({"type": "lifespan.shutdown.complete"})

    async def public(self, scope: Scope, receive: Receive, send: Send) -> None:
        """HTTP_PORT: what is mounted (the API, the redirect); 404 `not_found` for anything
        else (a WebSocket too: denied with it), a problem document as the API's own 404s are."""
        for prefix, app in self.mounts.items():
            if scope["type"] == "http" and scope["path"].startswith(prefix):
                return await app(scope, receive, _counted(send, self.settings.service, prefix.strip("/")))
        await problem_response(404, "not_found")(scope, receive, _counted(send, self.settings.service, "other"))

    async def management(self, scope: Scope, receive: Receive, send: Send) -> None:
        """MANAGEMENT_PORT: /health, /ready and /metrics (services/runtime/http.py)."""
        await self.app(scope, receive, send)

    async def run(self) -> None:
        """Serve HTTP on both ports; the ASGI lifespan starts and stops the service around it.
        Raises RefusedToStart when a port cannot be bound."""
        host = self.settings.http_host
        sockets: list[socket.socket] = []
        try:
            for port in (self.settings.http_port, self.settings.management_port):
                try:
                    sockets.append(_listening(host, port))
                except OSError as error:
                    raise RefusedToStart(f"{self.settings.service} cannot listen on {host}:{port}: "
                                         f"{error.strerror or error}") from None
            self.server = uvicorn.Server(uvicorn.Config(
                self.asgi, host=host, port=self.settings.http_port,
                log_config=None,  # keep our JSON logging; uvicorn would install its own
                access_log=False, interface="asgi3", lifespan="on",
                # On SIGTERM, requests in flight get this long, then the lifespan's shutdown
                # runs anyway (a stuck one would hold it until the pod's SIGKILL at 30 s, and
                # the consumers, relay and pool would never close cleanly).
                timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
            ))
            log.info("HTTP on %s:%d (public) and %s:%d (health, readiness, metrics)",
                     host, self.settings.http_port, host, self.settings.management_port)
            await self.server.serve(sockets=sockets)
        finally:
            for sock in sockets:
                sock.close()

    def main(self) -> None:
        """The process entry point: JSON logs, HTTP server, broker, relay; stops on SIGTERM.
        If the service refuses to start (its settings, a port taken), it says why in one log
        line and exits with status 2, before it touches the broker or the database."""
        configure_logging(self.settings.service, self.settings.log_level)
        # Young collections once 10,000 more tracked objects are alive (Python's default: 700),
        # or more with counted consumers, older ones rarer still: a batch of thousands of
        # decoded events lives through many of them otherwise (`young_collection_threshold`).
        gc.set_threshold(young_collection_threshold(self.pipelined, least=10_000), 50, 100)
        self.own_process = True
        try:
            self.refuse_unless_allowed()
            # Before any thread or connection exists: what starts later inherits the priority.
            if changed := lower_priority(self.settings.cpu_nice):
                log.info("CPU priority lowered to nice %d (%s)", self.settings.cpu_nice, ", ".join(changed))
            # uvloop: libuv's event loop, which asyncpg, aiokafka and uvicorn all run faster on.
            uvloop.run(self.run())
        except RefusedToStart as refused:
            log.critical("%s", refused)
            raise SystemExit(2) from None

    async def _broker_ok(self) -> bool:
        return await self.broker.ping(timeout=2.0)

    async def _database_ok(self) -> bool:
        return self.pool is not None and await self.pool.fetchval("SELECT 1") == 1

    async def _background_ok(self) -> bool:
        """The relay and every schedule run (a task that ended has failed), and no schedule
        has failed three passes in a row (a poisoned row would otherwise block it unseen)."""
        return (bool(self.tasks) and not any(task.done() for task in [*self.tasks, *self.consumers])
                and all(s.failures < 3 for s in self.schedules))


async def _cancelled(tasks: Sequence[asyncio.Task[None]]) -> None:
    """Cancels the tasks and waits for each to end; raises what one raised other than its
    cancellation. A cancellation of the caller (a stop's bound) is the caller's: awaiting
    each task instead, it would be passed on to the task and then swallowed with the task's
    own, and the bound would silently stop bounding."""
    for task in tasks:
        task.cancel()
    if tasks:
        try:
            await asyncio.wait(tasks)
        except asyncio.CancelledError:  # the bound is up: their clean-up is cut short too
            for task in tasks:
                task.cancel()
            raise
    for task in tasks:
        if not task.cancelled() and (error := task.exception()) is not None:
            raise error


def _unanswered(what: str, seconds: float, error: Exception) -> str:
    """Why a start failed: `what` (a service's dependency and where it is) timed out or
    refused; the error's own words otherwise (they name no credentials: aiokafka's and
    asyncio's connection errors give the address only)."""
    if isinstance(error, TimeoutError):
        return f"{what} did not answer within {seconds:g} s"
    return f"{what} could not be reached within {seconds:g} s: {error}"


def _database_host(dsn: str) -> str:
    """Where a libpq URI points (host:port), without its user or password."""
    where = urlsplit(dsn).netloc.rpartition("@")[2]
    return where or "(the host in its parameters)"


def _listening(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port), as asyncio binds its own for uvicorn (SO_REUSEADDR, IPv6
    when the host is an IPv6 address); uvicorn listens on it. Raises OSError when the port is
    taken. The protocol is named: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    connections whose socket says IPPROTO_TCP; without it a response waits for an ACK, and a
    413 sent before the body was read is lost to the reset that closing then sends."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


async def _end_transaction(conn: asyncpg.Connection) -> None:
    """What a pooled connection needs on release. asyncpg's default reset (unlock, close,
    unlisten, reset all: one more round trip per use) undoes session state our pooled
    connections never take: the relay's lock and LISTEN live on a connection of its own.
    It cost a tenth of the redirect's time (benchmarks/redirect.py, py-spy)."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


def _counted(send: Send, service: str, path: str) -> Send:
    """`send` that counts the answer's status (metrics.HTTP_RESPONSES) as it starts."""
    async def counting(message: Any) -> None:
        if message["type"] == "http.response.start":
            metrics.HTTP_RESPONSES.labels(service, path, str(message["status"])).inc()
        await send(message)

    return counting
