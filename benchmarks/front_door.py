"""A served service's HTTP API as people's apps call it in a benchmark: bearer tokens of the
test OpenID Connect issuer (harness/issuer.py, served over HTTP by the benchmark's process;
the service trusts it, `served(..., identity=issuer.settings())`), signed before the clock
starts, and an `Idempotency-Key` of its own on every command, as an app sends it."""

import asyncio
import time
import uuid
from collections.abc import Iterable
from typing import Any

import httpx

from harness.issuer import TestIssuer

TOKEN_SECONDS = 3600  # outlives any benchmark
ALREADY_APPLIED = "already_applied"  # the reason of a 409 to a retry of an applied command


class FrontDoor:
    """`async with FrontDoor(issuer, port) as door: await door.post(who, path, body)`."""

    def __init__(self, issuer: TestIssuer, port: int, connections: int = 64) -> None:
        self.issuer = issuer
        self.tokens: dict[str, str] = {}
        self.client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60.0,
                                        limits=httpx.Limits(max_connections=connections,
                                                            max_keepalive_connections=connections))
        # Requests beyond the connections wait here, not in httpx's pool (whose wait times out).
        self.connections = asyncio.Semaphore(connections)

    async def __aenter__(self) -> "FrontDoor":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    def sign_in(self, people: Iterable[str]) -> None:
        """Tokens for `people`, made now (RS256 signing is not what a benchmark measures)."""
        expires = int(time.time()) + TOKEN_SECONDS
        for who in people:
            if who not in self.tokens:
                self.tokens[who] = self.issuer.token(who, exp=expires)

    async def post(self, who: str, path: str, body: dict[str, Any] | None = None, tries: int = 3) -> httpx.Response:
        """A command as `who` (signed in on the spot if `sign_in` did not do it before). A
        connection lost before the answer (a kept-alive one the server was closing, say) is
        tried again with the same key: a command applied before answers 409 `already_applied`.
        Raises httpx.TransportError after `tries`."""
        self.sign_in([who])
        headers = {"Authorization": f"Bearer {self.tokens[who]}", "Idempotency-Key": str(uuid.uuid4())}
        for attempt in range(tries):
            try:
                async with self.connections:
                    return await self.client.post(path, json=body, headers=headers)
            except httpx.TransportError:
                if attempt == tries - 1:
                    raise
                await asyncio.sleep(0.2)
        raise AssertionError("unreachable")
