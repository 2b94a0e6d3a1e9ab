"""Who is signed in to this portal process: sessions kept in memory, keyed by an opaque id.

The browser holds only the session id (256 random bits) in an HttpOnly, SameSite=Lax
cookie; the tokens (access, refresh and ID token, 3–4 KB together with Keycloak) stay
here, never in the browser, where a cookie carries at most ~4 KB and script could read a
token (ADR 0016). A session ends when its person signs out, after `idle` without a
request, after `max_age` in any case, or when the least recently used of more than
`capacity` sessions is pushed out. A restart of the process ends every session: people
sign in again (at the issuer their single sign-on usually still holds, so without a
password). Several replicas need sticky sessions or a shared store (ADR 0016).

Each session carries its own CSRF token (the synchronizer-token pattern, OWASP): every
form sends it back, and a form without the session's token is refused.
"""

import asyncio
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from services.runtime.identity import Principal


@dataclass
class Tokens:
    access_token: str
    refresh_token: str | None
    id_token: str | None
    expires_at: float  # time.time() when the access token expires

    def expiring(self, now: float, margin: float = 30.0) -> bool:
        return now >= self.expires_at - margin


@dataclass
class Flash:
    """A one-time message shown next to what caused it (`target`: an element id of the page)."""

    target: str
    text: str
    kind: str = "error"  # or "ok"


@dataclass
class Session:
    session_id: str
    principal: Principal
    username: str  # shown to the person themself only; never logged
    tokens: Tokens
    started_at: float
    last_seen: float
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    flashes: list[Flash] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)  # one token renewal at a time

    def csrf_matches(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(sent.encode(), self.csrf_token.encode())  # type: ignore[union-attr]

    def flash(self, target: str, text: str, kind: str = "error") -> None:
        self.flashes.append(Flash(target, text, kind))

    def take_flashes(self) -> list[Flash]:
        taken, self.flashes = self.flashes, []
        return taken


class SessionStore:
    """Sessions in this process's memory. `clock` is `time.time` (tests pass their own)."""

    def __init__(self, idle_seconds: float, max_age_seconds: float, capacity: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.idle, self.max_age, self.capacity, self.clock = idle_seconds, max_age_seconds, capacity, clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def create(self, principal: Principal, username: str, tokens: Tokens) -> Session:
        now = self.clock()
        session = Session(secrets.token_urlsafe(32), principal, username, tokens, now, now)
        self._sessions[session.session_id] = session
        while len(self._sessions) > self.capacity:
            self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id (its idle time starts again), or None."""
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = self.clock()
        if now - session.last_seen > self.idle or now - session.started_at > self.max_age:
            del self._sessions[session_id]
            return None
        session.last_seen = now
        self._sessions.move_to_end(session_id)
        return session

    def end(self, session_id: str | None) -> Session | None:
        return self._sessions.pop(session_id, None) if session_id else None

    def end_all_of(self, advocate_id: str) -> int:
        """End every session of a person (after they erased themself); returns how many."""
        ids = [sid for sid, s in self._sessions.items() if s.principal.advocate_id == advocate_id]
        for sid in ids:
            del self._sessions[sid]
        return len(ids)
