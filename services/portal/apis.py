"""The four services' HTTP APIs, called with the signed-in person's access token.

    api = Apis(settings, http)
    consents = await api.get(caller, "consent", "/api/me/consents")
    await api.post(caller, "consent", "/api/me/consents/leaderboard/give", {"policy_version": 2})

`caller` hands out the person's access token (renewed with the refresh token when it is
about to expire, and once more when a service answers 401). What the services refuse
comes back as `Problem`, the RFC 9457 problem document they answer (`reason` is the
machine-readable code, services/runtime/api/problems.py); a service that cannot be reached
or answers 5xx is `Unavailable`. The portal has no other way into the data.
"""

from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from services.portal.config import PortalSettings
from services.portal.oidc import SignInRequired

SERVICES = ("curation", "consent", "distribution", "metrics")


class Caller(Protocol):
    async def access_token(self, renew: bool = False) -> str:
        """The person's access token; `renew`: a new one even if this one looks valid.
        Raises SignInRequired."""
        ...


class Problem(Exception):
    """A service refused: its problem document's status, reason, title and detail."""

    def __init__(self, service: str, status: int, reason: str, title: str = "", detail: str = "") -> None:
        super().__init__(f"{service} answered {status} {reason}")
        self.service, self.status, self.reason, self.title, self.detail = service, status, reason, title, detail

    @classmethod
    def of(cls, service: str, response: httpx.Response) -> "Problem":
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        return cls(service, response.status_code, str(body.get("reason") or f"http_{response.status_code}"),
                   str(body.get("title") or ""), str(body.get("detail") or ""))


class Unavailable(Exception):
    """A service did not answer, or failed (5xx): nothing the person did is the cause."""

    def __init__(self, service: str) -> None:
        super().__init__(f"{service} is unavailable")
        self.service = service


class Apis:
    def __init__(self, settings: PortalSettings, http: httpx.AsyncClient | None = None) -> None:
        self.base = {"curation": settings.curation_url, "consent": settings.consent_url,
                     "distribution": settings.distribution_url, "metrics": settings.metrics_url}
        self.http = http or httpx.AsyncClient(timeout=settings.portal_api_timeout_seconds,
                                              limits=httpx.Limits(max_connections=100, max_keepalive_connections=40))

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(self, caller: Caller, service: str, method: str, path: str, *, body: Any = None,
                      params: Mapping[str, Any] | None = None, accept: str = "application/json",
                      idempotency_key: str | None = None) -> httpx.Response:
        """The service's answer (2xx). Raises Problem, Unavailable or SignInRequired."""
        url = self.base[service].rstrip("/") + path
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        headers = {"Accept": accept}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        for renew in (False, True):
            headers["Authorization"] = f"Bearer {await caller.access_token(renew=renew)}"
            try:
                response = await self.http.request(method, url, json=body, params=query, headers=headers)
            except httpx.HTTPError:
                raise Unavailable(service) from None
            if response.status_code == 401 and not renew:
                continue  # expired early, or the keys rotated: one try with a renewed token
            if response.status_code == 401:
                raise SignInRequired()
            if response.status_code >= 500:
                raise Unavailable(service)
            if response.status_code >= 400:
                raise Problem.of(service, response)
            return response
        raise AssertionError("unreachable")

    async def get(self, caller: Caller, service: str, path: str, **params: Any) -> Any:
        return (await self.request(caller, service, "GET", path, params=params)).json()

    async def post(self, caller: Caller, service: str, path: str, body: Any = None,
                   idempotency_key: str | None = None) -> Any:
        return (await self.request(caller, service, "POST", path, body=body, idempotency_key=idempotency_key)).json()

    async def put(self, caller: Caller, service: str, path: str, body: Any,
                  idempotency_key: str | None = None) -> Any:
        return (await self.request(caller, service, "PUT", path, body=body, idempotency_key=idempotency_key)).json()

    async def delete(self, caller: Caller, service: str, path: str, idempotency_key: str | None = None) -> Any:
        return (await self.request(caller, service, "DELETE", path, idempotency_key=idempotency_key)).json()

    async def ready(self) -> dict[str, bool]:
        """Whether each service's API answers (a HEAD of its OpenAPI document: public, no token;
        a service's own /health is on its management port, which the portal does not reach)."""
        answers = {}
        for name, base in self.base.items():
            try:
                answers[name] = (await self.http.head(base.rstrip("/") + "/api/openapi.json",
                                                      timeout=2.0)).status_code == 200
            except httpx.HTTPError:
                answers[name] = False
        return answers
