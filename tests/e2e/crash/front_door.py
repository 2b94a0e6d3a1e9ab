"""Commands that act for a person (consent choices, share requests, approvals), sent as that
person over the services' HTTP APIs while processes die.

Each command carries an `Idempotency-Key` of its own, the same on every try, and is sent
until it gets a definitive answer: 2xx, a 4xx refusal, or 409 `already_applied` (a retry of
a request that was applied, its answer lost). A refused connection reached no process and
is tried again. A dropped or reset connection, a timeout or a 5xx (the process was killed,
its database was away) is ambiguous — the command may have been applied just before — and
is tried again with the same key: the service applies it at most once (the key is claimed
with the effect, in one transaction), the retries make it at least once, so the reference
computed from the inputs stays exact.
"""

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.issuer import TestIssuer

ALREADY_APPLIED = "409 already_applied"
TOKEN_SECONDS = 4 * 3600  # longer than any run: an expired token would be a refusal of its own
PAUSE = 0.3  # before trying again, so that a restarting process is not hammered
UNREACHABLE, NO_ANSWER = "unreachable", "no answer"  # what a try without a response met


@dataclass(frozen=True)
class Command:
    """`POST path` on `service` as `who` (with `roles`); `expected`: the answers ("201",
    "404 item_not_in_feed") it may get on a first definitive answer; `after_ambiguous`: those
    it may get once an earlier try went unanswered (it may have been applied by then)."""

    service: str
    path: str
    who: str
    body: dict[str, Any] | None = None
    roles: tuple[str, ...] = ()
    expected: tuple[str, ...] = ("200",)
    after_ambiguous: tuple[str, ...] = (ALREADY_APPLIED,)
    key: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class Answer:
    command: Command
    status: int
    reason: str | None  # the problem document's, for a refusal
    body: Any
    ambiguous_before: int  # tries without a definitive answer before this one

    @property
    def outcome(self) -> str:
        return f"{self.status} {self.reason}" if self.reason else str(self.status)

    @property
    def as_expected(self) -> bool:
        c = self.command
        return self.outcome in c.expected or (self.ambiguous_before > 0 and self.outcome in c.after_ambiguous)

    def __str__(self) -> str:
        c = self.command
        return (f"{c.service} POST {c.path} as {c.who}: {self.outcome} after {self.ambiguous_before} "
                f"unanswered, expected {c.expected}")


@dataclass
class Tally:
    """What the front door saw in a run (the run's figures)."""

    commands: int = 0  # answered definitively
    tries: int = 0  # every request sent, or tried
    unreachable: int = 0  # connection refused: nothing reached a process
    ambiguous: int = 0  # no answer, or a 5xx: tried again with the same key
    already_applied: int = 0  # a retry of an applied command, not applied twice
    outcomes: Counter = field(default_factory=Counter)  # "201", "404 item_not_in_feed" ...


class FrontDoor:
    """`ports(service)`: the HTTP ports of the service's replicas that are up now."""

    def __init__(self, issuer: TestIssuer, ports: Callable[[str], list[int]], concurrency: int = 16,
                 timeout: float = 30.0) -> None:
        self.issuer, self.ports, self.concurrency = issuer, ports, concurrency
        self.client = httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=concurrency))
        self.tokens: dict[tuple[str, tuple[str, ...]], str] = {}
        self.tally = Tally()
        self.unexpected: list[Answer] = []

    async def aclose(self) -> None:
        await self.client.aclose()

    def token(self, who: str, roles: tuple[str, ...] = ()) -> str:
        """Signed once per person and kept (pre-made, as a signed-in app holds one)."""
        if (who, roles) not in self.tokens:
            self.tokens[(who, roles)] = self.issuer.token(who, realm_roles=roles, exp=int(time.time()) + TOKEN_SECONDS)
        return self.tokens[(who, roles)]

    async def get(self, service: str, path: str, who: str, roles: tuple[str, ...] = ()) -> Any:
        """A read (an item's version before approving it), tried again until it is answered;
        AssertionError for an answer other than 200."""
        while True:
            response = await self._try(service, "GET", path, who, roles, None, None)
            if isinstance(response, httpx.Response) and response.status_code < 500:
                assert response.status_code == 200, f"GET {path} as {who}: {response.status_code} {response.text}"
                return response.json()
            await asyncio.sleep(PAUSE)

    async def send_in_order(self, sequences: Iterable[list[Command]]) -> list[Answer]:
        """Each sequence's commands one after the other (a person's choices keep their order),
        up to `concurrency` sequences at a time."""
        gate = asyncio.Semaphore(self.concurrency)

        async def one_by_one(sequence: list[Command]) -> list[Answer]:
            async with gate:
                return [await self.send(command) for command in sequence]

        done = await asyncio.gather(*(one_by_one(s) for s in sequences))
        return [answer for answers in done for answer in answers]

    async def send(self, command: Command) -> Answer:
        ambiguous = 0
        while True:
            response = await self._try(command.service, "POST", command.path, command.who, command.roles,
                                       command.body, command.key)
            if response is UNREACHABLE:
                await asyncio.sleep(PAUSE)
                continue
            if response is NO_ANSWER or response.status_code >= 500:
                ambiguous += 1
                self.tally.ambiguous += 1
                await asyncio.sleep(PAUSE)
                continue
            answer = Answer(command, response.status_code, _reason(response), _body(response), ambiguous)
            self.tally.commands += 1
            self.tally.outcomes[answer.outcome] += 1
            self.tally.already_applied += answer.outcome == ALREADY_APPLIED
            if not answer.as_expected:
                self.unexpected.append(answer)
            return answer

    async def _try(self, service: str, method: str, path: str, who: str, roles: tuple[str, ...],
                   body: dict[str, Any] | None, key: str | None) -> "httpx.Response | str":
        """One request to a live replica: its response, UNREACHABLE (it reached no process)
        or NO_ANSWER (it may have reached one)."""
        self.tally.tries += 1
        live = self.ports(service)
        if not live:
            self.tally.unreachable += 1
            return UNREACHABLE
        headers = {"Authorization": f"Bearer {self.token(who, roles)}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        try:
            return await self.client.request(method, f"http://127.0.0.1:{random.choice(live)}{path}", json=body,
                                             headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):  # never sent
            self.tally.unreachable += 1
            return UNREACHABLE
        except httpx.TransportError:  # dropped, reset, closed mid-answer, timed out: it may have been applied
            return NO_ANSWER


def _reason(response: httpx.Response) -> str | None:
    if response.status_code < 400:
        return None
    body = _body(response)
    return body.get("reason") if isinstance(body, dict) else None


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
