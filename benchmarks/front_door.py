"""A served service's HTTP API as people's apps call it in a benchmark: bearer tokens of the
test OpenID Connect issuer (harness/issuer.py, served over HTTP by the benchmark's process;
the service trusts it, `served(..., identity=issuer.settings())`), signed before the clock
starts, and an `Idempotency-Key` of its own on every command, as an app sends it.

The load generator runs on the same two cores as what it measures, so its client is
aiohttp's, kept-alive: httpx took about 2 ms of CPU per request here, as much as the service
answering it (benchmarks/command_cpu.py), and could not send 200 requests/s beside it
(`rate_sent` 156)."""

import asyncio
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from harness.issuer import TestIssuer

TOKEN_SECONDS = 3600  # outlives any benchmark
ALREADY_APPLIED = "already_applied"  # the reason of a 409 to a retry of an applied command


class TransportError(Exception):
    """The connection failed before an answer came."""


@dataclass
class Answer:
    """An HTTP answer, read whole: what the benchmarks look at."""

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


# uvicorn closes a connection idle for 5 s (timeout_keep_alive): the client lets go sooner, so
# no request is written on a connection as the server closes it.
_IDLE_SECONDS = 3.0


class FrontDoor:
    """`async with FrontDoor(issuer, port) as door: await door.post(who, path, body)`."""

    def __init__(self, issuer: TestIssuer, port: int, connections: int = 64) -> None:
        self.issuer = issuer
        self.base_url = f"http://127.0.0.1:{port}"
        self.tokens: dict[str, str] = {}
        self.connections = connections
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "FrontDoor":
        # Requests beyond the connections wait in the connector's queue for one.
        connector = aiohttp.TCPConnector(limit=self.connections, keepalive_timeout=_IDLE_SECONDS)
        self.session = aiohttp.ClientSession(self.base_url, connector=connector,
                                             timeout=aiohttp.ClientTimeout(total=60))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.close()

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
        assert self.session is not None, "use FrontDoor as `async with`"
        self.sign_in([who])
        headers = {"Authorization": f"Bearer {self.tokens[who]}", "Idempotency-Key": str(uuid.uuid4())}
        for attempt in range(tries):
            try:
                async with self.session.post(path, json=body, headers=headers) as response:
                    return Answer(response.status, dict(response.headers), await response.read())
            except (TimeoutError, aiohttp.ClientError):
                if attempt == tries - 1:
                    raise TransportError(f"POST {path}: no answer after {tries} tries") from None
                await asyncio.sleep(0.2)
        raise AssertionError("unreachable")

    async def get(self, who: str, path: str) -> Answer:
        """A read as `who` (signed in on the spot if `sign_in` did not do it before), the whole
        answer read. Raises TransportError if the connection fails."""
        assert self.session is not None, "use FrontDoor as `async with`"
        self.sign_in([who])
        try:
            async with self.session.get(path, headers={"Authorization": f"Bearer {self.tokens[who]}"}) as response:
                return Answer(response.status, dict(response.headers), await response.read())
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TransportError(f"GET {path}: {type(error).__name__}") from None
