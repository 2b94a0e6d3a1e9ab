"""A served service's HTTP API as people's apps call it in a benchmark: bearer tokens of the
test OpenID Connect issuer (harness/issuer.py, served over HTTP by the benchmark's process;
the service trusts it, `served(..., identity=issuer.settings())`), signed before the clock
starts, and an `Idempotency-Key` of its own on every command, as an app sends it.

The load generator runs on the same two cores as what it measures, so its client is lean:
HTTP/1.1 over kept-alive asyncio connections, a request written as one buffer and the answer
read by its Content-Length. httpx took about 2 ms of CPU per request here, as much as the
service answering it (benchmarks/command_cpu.py), and could not send 200 requests/s beside
it (`rate_sent` 156)."""

import asyncio
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.issuer import TestIssuer

TOKEN_SECONDS = 3600  # outlives any benchmark
ALREADY_APPLIED = "already_applied"  # the reason of a 409 to a retry of an applied command


class TransportError(Exception):
    """The connection failed before an answer came."""


@dataclass
class Answer:
    """An HTTP answer: the parts of httpx.Response the benchmarks read."""

    status_code: int
    headers: dict[str, str]
    content: bytes = field(repr=False)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


# uvicorn closes a connection idle for 5 s (timeout_keep_alive); one idle longer than this is
# not used again: a request written on it as the server closes it would be lost.
_IDLE_SECONDS = 3.0


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.idle_since = time.monotonic()

    def fresh(self) -> bool:
        return not self.reader.at_eof() and time.monotonic() - self.idle_since < _IDLE_SECONDS

    async def exchange(self, request: bytes) -> tuple[Answer, bool]:
        """Send `request`, read its answer; and whether the connection may be used again."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers:
            raise TransportError(f"an answer without Content-Length ({headers.get('transfer-encoding')})")
        content = await self.reader.readexactly(int(headers["content-length"]))
        return Answer(status, headers, content), headers.get("connection", "").lower() != "close"

    def close(self) -> None:
        self.writer.close()


class FrontDoor:
    """`async with FrontDoor(issuer, port) as door: await door.post(who, path, body)`."""

    def __init__(self, issuer: TestIssuer, port: int, connections: int = 64) -> None:
        self.issuer = issuer
        self.port = port
        self.tokens: dict[str, str] = {}
        self.idle: list[_Connection] = []
        # Requests beyond the connections wait here for one.
        self.connections = asyncio.Semaphore(connections)

    async def __aenter__(self) -> "FrontDoor":
        return self

    async def __aexit__(self, *exc: object) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()

    def sign_in(self, people: Iterable[str]) -> None:
        """Tokens for `people`, made now (RS256 signing is not what a benchmark measures)."""
        expires = int(time.time()) + TOKEN_SECONDS
        for who in people:
            if who not in self.tokens:
                self.tokens[who] = self.issuer.token(who, exp=expires)

    async def post(self, who: str, path: str, body: dict[str, Any] | None = None, tries: int = 3) -> Answer:
        """A command as `who` (signed in on the spot if `sign_in` did not do it before). A
        connection lost before the answer (a kept-alive one the server was closing, say) is
        tried again with the same key: a command applied before answers 409 `already_applied`.
        Raises TransportError after `tries`."""
        self.sign_in([who])
        content = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                   f"Authorization: Bearer {self.tokens[who]}\r\nIdempotency-Key: {uuid.uuid4()}\r\n"
                   + ("Content-Type: application/json\r\n" if body is not None else "")
                   + f"Content-Length: {len(content)}\r\n\r\n").encode() + content
        for attempt in range(tries):
            try:
                async with self.connections:
                    return await self._exchange(request)
            except (OSError, asyncio.IncompleteReadError, TransportError):
                if attempt == tries - 1:
                    raise TransportError(f"POST {path}: no answer after {tries} tries") from None
                await asyncio.sleep(0.2)
        raise AssertionError("unreachable")

    async def _exchange(self, request: bytes) -> Answer:
        connection = None
        while self.idle and connection is None:
            connection = self.idle.pop()
            if not connection.fresh():
                connection.close()
                connection = None
        if connection is None:
            connection = _Connection(*await asyncio.open_connection("127.0.0.1", self.port))
        try:
            answer, reusable = await connection.exchange(request)
        except BaseException:
            connection.close()
            raise
        if reusable:
            connection.idle_since = time.monotonic()
            self.idle.append(connection)
        else:
            connection.close()
        return answer
