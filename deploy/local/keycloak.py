"""Talking to the local stack's Keycloak: the realm's URLs, tokens, people created in bulk.

    realm = Realm.of(StackConfig.from_env())     # or Realm("http://127.0.0.1:28080")
    realm.issuer                                 # http://127.0.0.1:28080/realms/advocacy
    tokens = await password_token(realm, "editor", "editor")      # the token endpoint's answer
    await create_users(realm, [Person("adv-1a2b3c-0001", "p-0001", "secret", ("advocate",))])

The realm (deploy/keycloak/realm-advocacy.json) gives every token of the portal and the
scenario `aud` = "advocacy-api" and the person's realm roles in `realm_access.roles`; its
`sub` is the person's advocate id. Clients, secrets and demo passwords are local-only.
The server itself (start, stop, health) is deploy/local/keycloak_server.py.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx

from .config import StackConfig
from .keycloak_server import REALM, REALM_FILE

API_AUDIENCE = "advocacy-api"  # the resource servers' client: the `aud` every token carries
ROLES = ("advocate", "editor", "approver", "analyst", "privacy_officer", "operator")
ADVOCATE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")  # schemas' pattern for a pseudonymous advocate id
KEYCLOAK_ID_MAX = 36  # Keycloak keeps user ids in a varchar(36) column (USER_ENTITY.ID)
PORTAL_CALLBACK_PATH = "/auth/callback"  # registered for http://127.0.0.1 and http://localhost, any port
TIMEOUT = httpx.Timeout(30.0, read=120.0)  # a partial import of hundreds of people takes seconds


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str  # local-only, as in the realm file


PORTAL = Client("advocacy-portal", "advocacy-portal-local-secret")  # authorization code + PKCE S256
SCENARIO = Client("advocacy-scenario", "advocacy-scenario-local-secret")  # password grant; service account


class KeycloakError(RuntimeError):
    """Keycloak refused: `status` is the HTTP status, `error` its OAuth error code (if any).
    Messages carry no password, token or username."""

    def __init__(self, what: str, response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        self.status, self.error = response.status_code, str(body.get("error") or "")
        # The OAuth error description is generic ("Invalid user credentials"); the admin API's
        # errorMessage may name a user, so it is left out.
        detail = body.get("error_description") or ("somebody exists already" if self.status == 409 else "")
        said = f" ({detail})" if detail else ""
        super().__init__(f"{what}: HTTP {self.status} {self.error}{said}".replace("  ", " "))


@dataclass(frozen=True)
class Realm:
    base_url: str  # where Keycloak answers, e.g. http://127.0.0.1:28080
    name: str = REALM

    @classmethod
    def of(cls, config: StackConfig) -> Realm:
        return cls(config.keycloak_url)

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{self.name}"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token"

    @property
    def authorization_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/auth"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/certs"

    @property
    def admin_url(self) -> str:
        return f"{self.base_url}/admin/realms/{self.name}"


@dataclass(frozen=True)
class Person:
    """Somebody who can sign in: their advocate id becomes the token's `sub`."""

    advocate_id: str
    username: str
    password: str
    roles: tuple[str, ...] = ("advocate",)

    def __post_init__(self) -> None:
        if not ADVOCATE_ID.fullmatch(self.advocate_id) or len(self.advocate_id) > KEYCLOAK_ID_MAX:
            raise ValueError(f"not an advocate id Keycloak can keep: 8-{KEYCLOAK_ID_MAX} of A-Z a-z 0-9 _ -")
        unknown = set(self.roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown realm roles {sorted(unknown)}; the realm has {list(ROLES)}")

    def representation(self) -> dict[str, Any]:
        """Keycloak's UserRepresentation, as the admin API and partial import take it."""
        return {"id": self.advocate_id, "username": self.username, "enabled": True,
                "credentials": [{"type": "password", "value": self.password, "temporary": False}],
                "realmRoles": list(self.roles)}


class Imported(NamedTuple):
    added: int
    skipped: int
    overwritten: int


def demo_users() -> list[Person]:
    """The realm file's demo people (README: one per role, a manager, two more advocates)."""
    realm = json.loads(REALM_FILE.read_text())
    return [Person(u["id"], u["username"], u["credentials"][0]["value"], tuple(u.get("realmRoles", ())))
            for u in realm["users"] if u.get("credentials")]


@contextlib.asynccontextmanager
async def _http(http: httpx.AsyncClient | None) -> AsyncIterator[httpx.AsyncClient]:
    if http is not None:
        yield http
    else:
        async with httpx.AsyncClient(timeout=TIMEOUT) as fresh:
            yield fresh


async def password_token(realm: Realm, username: str, password: str, client: Client = SCENARIO, *,
                         http: httpx.AsyncClient | None = None, scope: str | None = "openid") -> dict[str, Any]:
    """Sign a person in with the password grant (RFC 6749 §4.3) at the token endpoint. Returns
    the answer: access_token, refresh_token, expires_in (s), and an id_token with the `openid`
    scope (`scope=None`: an access token only, which is all an API needs, and about half the
    server's work). KeycloakError if refused (wrong password: status 401, error "invalid_grant")."""
    form = {"grant_type": "password", "client_id": client.client_id, "client_secret": client.secret,
            "username": username, "password": password}
    async with _http(http) as h:
        response = await h.post(realm.token_url, data=form | ({"scope": scope} if scope else {}))
    if response.status_code != 200:
        raise KeycloakError(f"password grant of {client.client_id} refused", response)
    tokens: dict[str, Any] = response.json()
    return tokens


async def client_token(realm: Realm, client: Client = SCENARIO, *, http: httpx.AsyncClient | None = None) -> str:
    """The client's own access token (client credentials grant, RFC 6749 §4.4): its service account."""
    async with _http(http) as h:
        response = await h.post(realm.token_url, data={
            "grant_type": "client_credentials", "client_id": client.client_id, "client_secret": client.secret})
    if response.status_code != 200:
        raise KeycloakError(f"client credentials of {client.client_id} refused", response)
    token: str = response.json()["access_token"]
    return token


async def create_users(realm: Realm, people: Iterable[Person], if_exists: str = "SKIP", batch: int = 250,
                       client: Client = SCENARIO, *, http: httpx.AsyncClient | None = None) -> Imported:
    """Create people in bulk through the admin API's partial import (one request per `batch`),
    as the client's service account (realm-management: manage-users, manage-realm).
    `if_exists`: "SKIP" keeps somebody already there (same id or username), "OVERWRITE"
    replaces them, "FAIL" refuses the whole batch (KeycloakError, status 409)."""
    if if_exists not in ("SKIP", "OVERWRITE", "FAIL"):
        raise ValueError(f"if_exists must be SKIP, OVERWRITE or FAIL, not {if_exists!r}")
    people = list(people)
    totals = Imported(0, 0, 0)
    async with _http(http) as h:
        headers = {"Authorization": f"Bearer {await client_token(realm, client, http=h)}"}
        for start in range(0, len(people), batch):
            chunk = [p.representation() for p in people[start:start + batch]]
            response = await h.post(f"{realm.admin_url}/partialImport", headers=headers,
                                    json={"ifResourceExists": if_exists, "users": chunk})
            if response.status_code != 200:
                raise KeycloakError(f"partial import of {len(chunk)} people refused", response)
            answer = response.json()
            totals = Imported(totals.added + answer["added"], totals.skipped + answer["skipped"],
                              totals.overwritten + answer["overwritten"])
    return totals
