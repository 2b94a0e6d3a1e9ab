"""Signing people in at the OpenID Connect issuer: the authorization-code flow with PKCE.

    pending = oidc.begin(return_to="/feed")        # to keep (signed) until the callback
    redirect(pending.authorization_url)
    ...                                            # the issuer sends the person back with ?code&state
    signed_in = await oidc.finish(code, state, pending)
    tokens = await oidc.refresh(signed_in.tokens)  # before the access token expires

The flow is OAuth 2.0's authorization code grant (RFC 6749 §4.1) with Proof Key for Code
Exchange, method S256 (RFC 7636; required by the realm and by OAuth 2.0 Security BCP,
RFC 9700 §2.1.1), a `state` against cross-site request forgery of the callback, and an
OpenID Connect `nonce` that the ID token must carry back (OIDC Core §3.1.2.1, §3.1.3.7).
Authlib does the protocol (the authorization URL, the token requests with the client's
secret); this module adds what is ours: the issuer's metadata by discovery, the ID token
checked with the issuer's keys (iss, aud = our client, exp, nonce), and the access token
verified exactly as the services verify it (services/runtime/identity.py), so the roles
the pages offer are the roles the services will grant.

Errors: `SignInFailed` (the callback cannot be completed: refused, tampered, expired) and
`SignInRequired` (the refresh token is refused or gone: the person signs in again). No
token, code or claim value is ever put in a message or a log.
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import httpx2
import jwt
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

from services.portal.config import PortalSettings
from services.portal.sessions import Tokens
from services.runtime.identity import Authenticator, InvalidToken, IssuerUnavailable, OidcSettings, Principal

_DISCOVERY_TTL_SECONDS = 3600.0


class SignInFailed(Exception):
    """The sign-in could not be completed; `reason` is a code from a fixed vocabulary."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"sign-in failed: {reason}")
        self.reason = reason


class SignInRequired(Exception):
    """The session's tokens cannot be renewed: the person signs in again."""


@dataclass(frozen=True)
class Pending:
    """A sign-in under way, kept in a signed, short-lived cookie until the callback."""

    state: str
    nonce: str
    code_verifier: str
    return_to: str
    authorization_url: str = ""

    def to_cookie(self) -> dict[str, str]:
        return {"s": self.state, "n": self.nonce, "v": self.code_verifier, "r": self.return_to}

    @classmethod
    def from_cookie(cls, data: Any) -> "Pending":
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in "snvr"):
            raise SignInFailed("malformed_state")
        return cls(data["s"], data["n"], data["v"], data["r"])


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    username: str
    tokens: Tokens


class Oidc:
    def __init__(self, settings: PortalSettings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        identity = OidcSettings(issuer=settings.oidc_issuer, audience=[settings.oidc_audience])
        self.access = Authenticator(identity)  # as the services verify the tokens handed to them
        self.http = http or httpx.AsyncClient(timeout=settings.portal_api_timeout_seconds)
        self._metadata: dict[str, Any] | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self.access.aclose()
        await self.http.aclose()

    async def metadata(self) -> dict[str, Any]:
        """The issuer's discovery document (OpenID Connect Discovery 1.0), cached for an hour.
        Raises IssuerUnavailable."""
        async with self._lock:
            if self._metadata is None or time.monotonic() - self._fetched_at > _DISCOVERY_TTL_SECONDS:
                url = self.settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"
                try:
                    response = await self.http.get(url)
                    response.raise_for_status()
                    document = response.json()
                except (httpx.HTTPError, ValueError):
                    raise IssuerUnavailable("discovery") from None
                if not isinstance(document, dict) or document.get("issuer") != self.settings.oidc_issuer:
                    raise IssuerUnavailable("discovery_issuer_mismatch")
                self._metadata, self._fetched_at = document, time.monotonic()
            return self._metadata

    def _client(self) -> AsyncOAuth2Client:
        s = self.settings
        return AsyncOAuth2Client(
            client_id=s.portal_client_id, client_secret=s.portal_client_secret.get_secret_value(),
            token_endpoint_auth_method="client_secret_basic", scope=s.portal_scope, redirect_uri=s.callback_url,
            code_challenge_method="S256", timeout=s.portal_api_timeout_seconds)

    async def begin(self, return_to: str) -> Pending:
        """A new sign-in: state, nonce and a PKCE verifier (48 characters of [A-Za-z0-9],
        within RFC 7636's 43–128), and the authorization URL to send the person to."""
        metadata = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(48)
        async with self._client() as client:
            url, _ = client.create_authorization_url(metadata["authorization_endpoint"], state=state,
                                                     code_verifier=verifier, nonce=nonce)
        return Pending(state, nonce, verifier, return_to, url)

    async def finish(self, code: str, state: str, pending: Pending) -> SignedIn:
        """Exchange the callback's code for tokens and check them. Raises SignInFailed."""
        if not state or state != pending.state:
            raise SignInFailed("state_mismatch")
        metadata = await self.metadata()
        try:
            async with self._client() as client:
                answer = await client.fetch_token(metadata["token_endpoint"], grant_type="authorization_code",
                                                  code=code, code_verifier=pending.code_verifier)
        except OAuthError as error:
            raise SignInFailed(f"token_endpoint_{error.error}") from None
        except (httpx.HTTPError, httpx2.HTTPError):  # Authlib's client is httpx2's
            raise SignInFailed("token_endpoint_unreachable") from None
        id_claims = await self._id_token_claims(answer.get("id_token"), pending.nonce)
        tokens = self._tokens(answer, id_token=answer.get("id_token"))
        principal = await self._principal(tokens.access_token, SignInFailed)
        if principal.advocate_id != id_claims.get("sub"):
            raise SignInFailed("subject_mismatch")
        return SignedIn(principal, str(id_claims.get("preferred_username") or ""), tokens)

    async def refresh(self, tokens: Tokens) -> tuple[Tokens, Principal]:
        """New tokens with the refresh token (RFC 6749 §6). Raises SignInRequired when the
        issuer refuses it (expired, revoked, the person signed out elsewhere)."""
        if not tokens.refresh_token:
            raise SignInRequired()
        metadata = await self.metadata()
        try:
            async with self._client() as client:
                answer = await client.refresh_token(metadata["token_endpoint"], refresh_token=tokens.refresh_token)
        except OAuthError:
            raise SignInRequired() from None
        except (httpx.HTTPError, httpx2.HTTPError):
            raise IssuerUnavailable("token_endpoint") from None
        fresh = self._tokens(answer, id_token=answer.get("id_token") or tokens.id_token,
                             refresh_token=answer.get("refresh_token") or tokens.refresh_token)
        return fresh, await self._principal(fresh.access_token, SignInRequired)

    async def logout_url(self, id_token: str | None) -> str | None:
        """RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the issuer ends its
        session too, then sends the person back to the portal's start page."""
        try:
            endpoint = (await self.metadata()).get("end_session_endpoint")
        except IssuerUnavailable:
            return None
        if not endpoint:
            return None
        params = {"client_id": self.settings.portal_client_id,
                  "post_logout_redirect_uri": self.settings.public_url + "/"}
        if id_token:
            params["id_token_hint"] = id_token
        return str(httpx.URL(endpoint, params=params))

    def _tokens(self, answer: dict[str, Any], id_token: str | None, refresh_token: str | None = None) -> Tokens:
        access = answer.get("access_token")
        if not isinstance(access, str):
            raise SignInFailed("no_access_token")
        expires_in = answer.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 60.0
        return Tokens(access, refresh_token or answer.get("refresh_token"), id_token, time.time() + lifetime)

    async def _principal(self, access_token: str, error: type[Exception]) -> Principal:
        try:
            return await self.access.principal(access_token)
        except InvalidToken as refused:
            raise (SignInFailed(f"access_token_{refused.reason}") if error is SignInFailed else error()) from None

    async def _id_token_claims(self, id_token: Any, nonce: str) -> dict[str, Any]:
        """The ID token's claims, verified with the issuer's keys (OIDC Core §3.1.3.7)."""
        if not isinstance(id_token, str):
            raise SignInFailed("no_id_token")
        try:
            header = jwt.get_unverified_header(id_token)
            alg, kid = header.get("alg"), header.get("kid")
            if alg not in self.access.settings.algorithms or not isinstance(kid, str):
                raise SignInFailed("id_token_algorithm")
            key = await self.access.keys.key(kid, alg)
            claims: dict[str, Any] = jwt.decode(
                id_token, key, algorithms=[alg], audience=self.settings.portal_client_id,
                issuer=self.settings.oidc_issuer, leeway=self.access.settings.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except (jwt.PyJWTError, InvalidToken):
            raise SignInFailed("id_token_invalid") from None
        if claims.get("nonce") != nonce:
            raise SignInFailed("nonce_mismatch")
        return claims
