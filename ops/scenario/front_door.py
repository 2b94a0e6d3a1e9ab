"""The services' HTTP APIs, called for a signed-in person, as their app would call them.

    door = FrontDoor(http, accounts, {"consent": "http://127.0.0.1:8082", ...})
    state = await door.command("adv-1a2b3c-0007", "POST", "consent", "/api/me/consents/leaderboard/give",
                               {"policy_version": 1})
    feed = await door.query("adv-1a2b3c-0007", "distribution", "/api/me/feed", limit=20)

Every command carries an `Idempotency-Key` (IETF httpapi-idempotency-key-header) made
for it, and a retry carries the same key: a request whose answer was lost (the connection
dropped, the server was busy) is sent again safely, since a service applies a key once
per person and answers a repeat 409 `already_applied` — `command` then returns
ALREADY_APPLIED and the caller reads the state if it needs it. A refusal raises `Refused`
with the problem document's status, `reason` and `detail` (RFC 9457).
"""

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from ops.scenario.signin import Accounts

ATTEMPTS = 4
ALREADY_APPLIED: Any = None  # what `command` returns for a repeat the service had applied already


@dataclass
class Refused(Exception):
    """A problem document (RFC 9457) answering a request."""

    status: int
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.status} {self.reason}" + (f" ({self.detail})" if self.detail else "")

    @classmethod
    def of(cls, response: httpx.Response) -> "Refused":
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        problem = problem if isinstance(problem, dict) else {}
        return cls(response.status_code, str(problem.get("reason") or "no_problem_document"),
                   str(problem.get("detail") or ""))


class FrontDoor:
    """`services`: service name -> base URL (http://host:port)."""

    def __init__(self, http: httpx.AsyncClient, accounts: Accounts, services: dict[str, str]) -> None:
        self.http = http
        self.accounts = accounts
        self.services = services
        self.retried = 0  # requests sent again after a lost answer or a busy service

    async def command(self, who: str, method: str, service: str, path: str, body: dict | None = None) -> Any:
        """The JSON answer of a command sent by `who`; ALREADY_APPLIED if an earlier try of
        it was applied and its answer lost. Raises Refused."""
        return await self._send(who, method, service, path, body, idempotency_key=str(uuid.uuid4()))

    async def query(self, who: str, service: str, path: str, **params: Any) -> Any:
        """The JSON answer of a GET by `who` (params: the query). Raises Refused."""
        return await self._send(who, "GET", service, path, None, params=params)

    async def text(self, who: str, service: str, path: str, **params: Any) -> str:
        """The body of a GET by `who`, as text (an HTML or CSV rendering). Raises Refused."""
        return await self._send(who, "GET", service, path, None, params=params, as_text=True)

    async def _send(self, who: str, method: str, service: str, path: str, body: dict | None, *,
                    params: dict[str, Any] | None = None, idempotency_key: str | None = None,
                    as_text: bool = False) -> Any:
        attempt, renew, renewed = 0, False, False
        while True:
            attempt += 1
            headers = {"Authorization": f"Bearer {await self.accounts.token(who, renew=renew)}"}
            renew = False
            if idempotency_key:
                headers["Idempotency-Key"] = idempotency_key
            try:
                response = await self.http.request(method, self.services[service] + path, json=body,
                                                   params=params, headers=headers)
            except httpx.TransportError:  # sent or not, answered or not: the same key makes it safe
                if attempt == ATTEMPTS:
                    raise
                await self._again(attempt)
                continue
            if response.status_code == 401 and not renewed:  # the token expired meanwhile: sign in again
                renew = renewed = True
                attempt -= 1
                continue
            if response.status_code == 503 and attempt < ATTEMPTS:
                await self._again(attempt, response.headers.get("Retry-After"))
                continue
            if response.status_code >= 400:
                refused = Refused.of(response)
                if refused.reason == "already_applied" and attempt > 1:
                    return ALREADY_APPLIED
                raise refused
            return response.text if as_text else response.json()

    async def _again(self, attempt: int, retry_after: str | None = None) -> None:
        self.retried += 1
        wait = float(retry_after) if retry_after and retry_after.isdigit() else 0.5 * attempt
        await asyncio.sleep(min(wait, 5.0))
