"""Fixtures of the curation tests: the rig (tests/integration/curation/curation_rig.py), a
feed server on loopback, and a server on loopback that does not speak HTTP."""

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

import pytest

from services.curation.app import build_service
from services.curation.config import CurationSettings, CurationTopics
from tests.integration.curation.curation_rig import CurationRig
from tests.integration.rig import Clock, make_rig


@pytest.fixture
async def curation(stack, scratch_schema, make_topics, issuer) -> AsyncIterator[CurationRig]:
    """Not running: `curation.build()` or `curation.running()` make the service (on a clock
    the test sets); tests restart it, or run two replicas, on the same schema and topics.
    `curation.serving()` runs it with its HTTP API, which trusts the session's test issuer."""
    async with make_rig(CurationRig, stack, scratch_schema, make_topics, build_service, CurationSettings,
                        CurationTopics, clock=Clock(), identity=issuer.settings(), schedule_seconds=0.1,
                        feed_poll_seconds=300, feed_timeout_seconds=5,
                        feed_allow_private_addresses=True) as rig:  # the test feeds are served on loopback
        rig.issuer = issuer
        yield rig


@pytest.fixture
async def curation_api(curation) -> AsyncIterator[CurationRig]:
    """The service serving its HTTP API (consuming, relaying and polling too); requests with
    `curation_api.as_(who, roles, method, path, body)`."""
    async with curation.serving():
        yield curation


class FeedServer(NamedTuple):
    base: str  # http://127.0.0.1:<port>
    documents: dict[str, tuple[int, bytes]]  # path → (status, body)
    requested: list[str]  # every path asked for, in order


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """An HTTP server on 127.0.0.1 serving `documents[path] = (status, body)`."""
    server = FeedServer("", {}, [])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requested.append(self.path)
            status, body = server.documents.get(self.path, (404, b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server._replace(base=f"http://127.0.0.1:{httpd.server_port}")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


class NotHttpServer(NamedTuple):
    url: str
    connections: list[int]  # one entry per connection accepted


@pytest.fixture
async def not_http_server() -> AsyncIterator[NotHttpServer]:
    """A TCP server on 127.0.0.1 that answers any request with an SSH banner, as a feed URL
    pointing at the wrong port would."""
    connections: list[int] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield NotHttpServer(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/feed.rss", connections)
    finally:
        server.close()
        await server.wait_closed()
