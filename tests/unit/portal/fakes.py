"""Stand-ins for the issuer and the services, for unit tests of the portal's pages only
(the integration and browser tests use the real Keycloak and the real services)."""

import time
from typing import Any

from services.portal.apis import Caller, Problem
from services.portal.oidc import Pending, SignedIn, SignInRequired
from services.portal.sessions import Tokens
from services.runtime.identity import Principal

ME = "adv-unit-0001"


class FakeKeys:
    async def refresh(self) -> None:
        return None


class FakeAccess:
    keys = FakeKeys()

    async def aclose(self) -> None:
        return None


class FakeOidc:
    """Signs in whoever `principal` is; `refusing` makes refreshes fail as an expired refresh token would."""

    def __init__(self, principal: Principal | None = None) -> None:
        self.principal = principal or Principal(ME, frozenset({"advocate"}))
        self.refusing = False
        self.refreshed = 0
        self.access = FakeAccess()

    async def metadata(self) -> dict[str, Any]:
        return {"authorization_endpoint": "https://issuer.test/auth", "token_endpoint": "https://issuer.test/token"}

    async def begin(self, return_to: str) -> Pending:
        return Pending("state-1", "nonce-1", "v" * 48, return_to, "https://issuer.test/auth?state=state-1")

    async def finish(self, code: str, state: str, pending: Pending) -> SignedIn:
        from services.portal.oidc import SignInFailed

        if state != pending.state or code != "good-code":
            raise SignInFailed("state_mismatch")
        return SignedIn(self.principal, "unit", Tokens("access-1", "refresh-1", "id-1", time.time() + 300))

    async def refresh(self, tokens: Tokens) -> tuple[Tokens, Principal]:
        if self.refusing:
            raise SignInRequired()
        self.refreshed += 1
        return Tokens(f"access-{self.refreshed + 1}", "refresh-2", tokens.id_token, time.time() + 300), self.principal

    async def logout_url(self, id_token: str | None) -> str | None:
        return "https://issuer.test/logout"

    async def aclose(self) -> None:
        return None


class FakeApis:
    """Answers from `routes` ((method, service, path) -> answer or Problem); records calls."""

    def __init__(self, routes: dict[tuple[str, str, str], Any]) -> None:
        self.routes = routes
        self.calls: list[tuple[str, str, str, Any, str | None, str]] = []

    async def _answer(self, caller: Caller, method: str, service: str, path: str, body: Any = None,
                      key: str | None = None) -> Any:
        token = await caller.access_token()
        self.calls.append((method, service, path, body, key, token))
        answer = self.routes[(method, service, path)]
        if isinstance(answer, Problem):
            raise answer
        return answer

    async def get(self, caller: Caller, service: str, path: str, **params: Any) -> Any:
        return await self._answer(caller, "GET", service, path)

    async def post(self, caller: Caller, service: str, path: str, body: Any = None,
                   idempotency_key: str | None = None) -> Any:
        return await self._answer(caller, "POST", service, path, body, idempotency_key)

    async def delete(self, caller: Caller, service: str, path: str, idempotency_key: str | None = None) -> Any:
        return await self._answer(caller, "DELETE", service, path, None, idempotency_key)

    async def ready(self) -> dict[str, bool]:
        return {"consent": True}

    async def aclose(self) -> None:
        return None


def policy(purpose: str, version: int = 1, requires_renewal: bool = False) -> dict[str, Any]:
    return {"purpose": purpose, "version": version, "text": f"The policy of {purpose}.", "content_hash": "0" * 64,
            "requires_renewal": requires_renewal, "published_at": "2026-11-01T09:00:00+00:00"}


def consent(purpose: str, status: str | None = None, valid: bool = False, version: int = 1,
            current: int = 1, renewal: bool = False) -> dict[str, Any]:
    return {"purpose": purpose, "status": status, "valid": valid,
            "since": "2026-11-20T10:00:00+00:00" if status else None,
            "until": "2028-11-20T10:00:00+00:00" if valid else None, "changed_by": "subject" if status else None,
            "collection_method": "web_form" if status else None, "renewal_requested": renewal,
            "policy": policy(purpose, version) if status else None,
            "current_policy": policy(purpose, current, requires_renewal=current != version)}


PURPOSES = ("receive_content", "share_attribution", "network_reach", "leaderboard", "scheduled_sharing")
