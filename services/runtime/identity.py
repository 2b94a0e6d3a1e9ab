"""Who signed in: bearer JWTs from any OpenID Connect issuer, verified against its keys.

The platform trusts one issuer by configuration (Keycloak locally; Entra ID, Okta … in
production). A token is accepted when, per RFC 7519 §7.2 and RFC 8725 (JWT best current
practices):

- its `alg` is on an allow-list of asymmetric algorithms (never `none`, never HS*: an
  HMAC "signed" with the issuer's public key must not pass, RFC 8725 §2.1);
- its `kid` names a signing key of the issuer's JWKS (RFC 7517), found through OpenID
  Connect Discovery (`<issuer>/.well-known/openid-configuration`, `jwks_uri`), cached,
  and fetched again when a token names a key not seen yet (the issuer rotated keys) — at
  most once per `OIDC_JWKS_MIN_REFETCH_SECONDS`, so made-up kids cannot hammer the issuer;
- the signature verifies with that key and that algorithm (PyJWT does the JOSE work);
- `iss` is the issuer, `aud` names this platform, `exp`, `iat` (and `nbf` when present)
  hold within `OIDC_LEEWAY_SECONDS`;
- the advocate-id claim (default `sub`) is a pseudonymous id as commands carry it
  (schemas.commands.ActorId).

Errors: `InvalidToken` (→ HTTP 401) when the token is refused, `IssuerUnavailable`
(→ HTTP 503) when the keys cannot be had, so that an outage of the issuer does not look
like everybody's token being wrong. Neither's message, nor anything logged here, ever
holds the token or a claim's value: only a reason code from a fixed vocabulary.

Environment (prefix `OIDC_`): `OIDC_ISSUER`, `OIDC_AUDIENCE` (comma-separated; a token
must name one), `OIDC_ADVOCATE_CLAIM` (`sub`; Entra ID: `oid`), `OIDC_ROLES_CLAIM` (a
dotted path, `realm_access.roles` as Keycloak puts realm roles; Entra ID: `roles`; a
list of strings or one space-separated string), `OIDC_ALGORITHMS`, `OIDC_LEEWAY_SECONDS`,
`OIDC_JWKS_URL` (skips discovery: the issuer reached on an inner address),
`OIDC_JWKS_TTL_SECONDS`, `OIDC_JWKS_MIN_REFETCH_SECONDS`, `OIDC_HTTP_TIMEOUT_SECONDS`,
`OIDC_VERIFIED_TOKENS` (how many verified tokens are remembered, by their SHA-256, until their
`exp` at the latest and while their key is still the issuer's: ADR 0027; 0 turns it off).
"""

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import jwt
from jwt.types import Options
from pydantic import Field, TypeAdapter, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from schemas.commands import ActorId

log = logging.getLogger(__name__)

# Asymmetric JWS algorithms (RFC 7518 §3.1, RFC 8037) and the key each needs: (kty, curves).
KEY_TYPES: dict[str, tuple[str, frozenset[str] | None]] = {
    **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), ("RSA", None)),
    "ES256": ("EC", frozenset({"P-256"})), "ES384": ("EC", frozenset({"P-384"})),
    "ES512": ("EC", frozenset({"P-521"})), "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
}
_ACTOR_ID = TypeAdapter(ActorId)
_MAX_TOKEN_CHARS = 16 * 1024  # Keycloak's tokens run to 1-2 KB; a bigger one is not a token of ours
_MAX_DOCUMENT_BYTES = 1024 * 1024  # a discovery document or JWKS is a few KB
# A compact JWS as PyJWT reads one: three base64url segments, each with at most two '='.
# Checked in C before the header is read for the key; PyJWT checks it all again, strictly.
_COMPACT = re.compile(r"[A-Za-z0-9_-]*={0,2}\.[A-Za-z0-9_-]*={0,2}\.[A-Za-z0-9_-]*={0,2}")


class InvalidToken(Exception):
    """A bearer token refused. `reason` is a code from a fixed vocabulary (`malformed`,
    `algorithm_not_allowed`, `unknown_key`, `bad_signature`, `expired`, `not_yet_valid`,
    `wrong_issuer`, `wrong_audience`, `missing_claim`, `invalid_advocate_id`, …); neither
    it nor the message carries the token or a claim's value."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"bearer token refused: {reason}")
        self.reason = reason


class IssuerUnavailable(Exception):
    """The issuer's keys cannot be had (unreachable, answering nonsense, or not
    configured): the token can be neither accepted nor refused. HTTP answers 503."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the identity provider's keys are unavailable: {reason}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Principal:
    """Who signed in: a pseudonymous advocate id (the actor of their commands) and roles."""

    advocate_id: str
    roles: frozenset[str] = frozenset()

    def has_role(self, role: str) -> bool:
        return role in self.roles


class OidcSettings(BaseSettings):
    """The trusted issuer, from `OIDC_*` environment variables (see the module's docstring)."""

    model_config = SettingsConfigDict(env_prefix="OIDC_", extra="ignore")

    issuer: str = ""  # empty: nobody can sign in (every request answers 503, a warning at start)
    audience: Annotated[list[str], NoDecode] = ["advocacy-api"]
    advocate_claim: str = "sub"
    roles_claim: str = "realm_access.roles"
    algorithms: Annotated[list[str], NoDecode] = ["RS256", "PS256", "ES256", "EdDSA"]
    leeway_seconds: float = 30.0
    jwks_url: str = ""
    jwks_ttl_seconds: float = 300.0
    jwks_min_refetch_seconds: float = 10.0
    http_timeout_seconds: float = 5.0
    # Tokens verified, remembered by their SHA-256 until their `exp` at the latest (ADR 0027);
    # 0: every request verifies its token in full.
    verified_tokens: int = Field(default=10_000, ge=0)

    @field_validator("audience", "algorithms", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @field_validator("algorithms")
    @classmethod
    def _only_asymmetric(cls, algorithms: list[str]) -> list[str]:
        if not algorithms or not set(algorithms) <= KEY_TYPES.keys():
            raise ValueError(f"OIDC_ALGORITHMS takes only asymmetric algorithms: {', '.join(KEY_TYPES)}")
        return algorithms

    @property
    def discovery_url(self) -> str:
        """OpenID Connect Discovery 1.0 §4: the issuer, less a trailing slash, + the well-known path."""
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (`realm_access.roles`), or None where any step is missing."""
    node: Any = claims
    for step in path.split("."):
        if not isinstance(node, Mapping) or step not in node:
            return None
        node = node[step]
    return node


def principal_from(claims: Mapping[str, Any], advocate_claim: str = "sub",
                   roles_claim: str = "realm_access.roles") -> Principal:
    """The `Principal` of verified claims. Raises `InvalidToken` when the advocate id is
    missing or not a pseudonymous id, or the roles claim is neither a list of strings nor
    one space-separated string (as OAuth's `scope`); no roles claim means no roles."""
    advocate_id = claim_at(claims, advocate_claim)
    if advocate_id is None:
        raise InvalidToken("missing_claim")
    try:
        advocate_id = _ACTOR_ID.validate_python(advocate_id, strict=True)
    except ValidationError:
        raise InvalidToken("invalid_advocate_id") from None
    roles = claim_at(claims, roles_claim)
    if isinstance(roles, str):
        roles = roles.split()
    if roles is None:
        roles = []
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise InvalidToken("invalid_roles_claim")
    return Principal(advocate_id, frozenset(roles))


class SigningKeys:
    """The issuer's JWKS, cached. `key(kid, alg)` answers from memory while the set is
    younger than the TTL; an unknown kid or an expired set fetches it again, at most once
    per `jwks_min_refetch_seconds` whatever the number of requests (concurrent callers share
    one fetch). If a refresh fails, the keys in hand stay in use."""

    def __init__(self, settings: OidcSettings, client: httpx.AsyncClient | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._client = client
        self.clock = clock
        self.fetches = 0  # attempts to fetch the JWKS, for tests and operators
        self._jwks: dict[str, dict[str, Any]] | None = None  # usable signing JWKs by kid
        self._parsed: dict[tuple[str, str], jwt.PyJWK] = {}
        self._jwks_url = settings.jwks_url
        self._fetched_at = self._attempted_at = -float("inf")
        self._failure: IssuerUnavailable | None = None  # of the last attempt
        self._completed = 0  # attempts finished, so that a waiting request sees one was made
        self._lock = asyncio.Lock()

    async def key(self, kid: str, alg: str) -> jwt.PyJWK:
        """The key named `kid`, bound to `alg`. Raises `InvalidToken` (`unknown_key`,
        `key_algorithm_mismatch`, `unusable_key`) or `IssuerUnavailable`."""
        if self._jwks is None or kid not in self._jwks or self._expired():
            await self._refresh_if_allowed(must_succeed=self._jwks is None or kid not in self._jwks)
        jwk = (self._jwks or {}).get(kid)  # a set: _refresh_if_allowed raised otherwise
        if jwk is None:
            raise InvalidToken("unknown_key")
        return self._parsed.get((kid, alg)) or self._bind(kid, jwk, alg)

    def current(self, kid: str) -> bool:
        """Whether `kid` is in the key set in hand and the set is younger than its TTL: what a
        remembered token's key must be for the token to be taken without verifying it again."""
        return self._jwks is not None and kid in self._jwks and not self._expired()

    async def refresh(self) -> None:
        """Fetch the JWKS now (at start, to warm the cache). Raises `IssuerUnavailable`."""
        async with self._lock:
            await self._attempt()
        if self._failure is not None:
            raise IssuerUnavailable(self._failure.reason)

    async def aclose(self) -> None:
        """Close the HTTP client; a later fetch opens a new one (a service may start again)."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.settings.http_timeout_seconds, follow_redirects=False)
        return self._client

    def _expired(self) -> bool:
        return self.clock() - self._fetched_at > self.settings.jwks_ttl_seconds

    async def _refresh_if_allowed(self, must_succeed: bool) -> None:
        """Fetch unless a fetch was attempted less than `jwks_min_refetch_seconds` ago; a
        request that finds a fetch under way waits for it and takes its outcome."""
        seen = self._completed
        async with self._lock:
            if self._completed == seen and \
                    self.clock() - self._attempted_at >= self.settings.jwks_min_refetch_seconds:
                await self._attempt()
            attempted = self._completed != seen
        if self._jwks is None:
            raise IssuerUnavailable(self._failure.reason if self._failure else "fetch_failed")
        if self._failure is not None:  # the last fetch failed, now or a moment ago
            if must_succeed:  # the token's key may well be a new one of the issuer's: it cannot be told
                raise IssuerUnavailable(self._failure.reason)
            if attempted:
                log.warning("keeping the signing keys in hand: the issuer's JWKS could not be refreshed")

    async def _attempt(self) -> None:
        """One fetch, under the lock; its outcome is kept, not raised."""
        self.fetches += 1
        self._attempted_at = self.clock()
        try:
            keys = await self._fetch()
        except IssuerUnavailable as failure:
            self._failure = failure
        else:
            self._failure = None
            self._jwks, self._parsed, self._fetched_at = keys, {}, self.clock()
        finally:
            self._completed += 1

    async def _fetch(self) -> dict[str, dict[str, Any]]:
        if not self.settings.issuer:
            raise IssuerUnavailable("not_configured")
        if not self._jwks_url:
            discovery = await self._get_json(self.settings.discovery_url)
            if discovery.get("issuer") != self.settings.issuer or not isinstance(discovery.get("jwks_uri"), str):
                log.error("the discovery document does not name OIDC_ISSUER as its issuer, or has no jwks_uri")
                raise IssuerUnavailable("discovery_mismatch")
            self._jwks_url = discovery["jwks_uri"]
        try:
            document = await self._get_json(self._jwks_url)
        except IssuerUnavailable:
            self._jwks_url = self.settings.jwks_url  # discover again next time: the address may have moved
            raise
        keys = document.get("keys")
        if not isinstance(keys, list):
            raise IssuerUnavailable("invalid_jwks")
        # Signing keys of an asymmetric type, with a kid: a symmetric (`oct`) key is never used.
        return {key["kid"]: key for key in keys
                if isinstance(key, dict) and isinstance(key.get("kid"), str)
                and key.get("use", "sig") == "sig" and key.get("kty") in ("RSA", "EC", "OKP")}

    async def _get_json(self, url: str) -> dict[str, Any]:
        """A JSON object from the issuer (at most 1 MiB, no redirects followed)."""
        try:
            async with self.client.stream("GET", url, headers={"Accept": "application/json"}) as response:
                if response.status_code != 200:
                    raise IssuerUnavailable(f"http_{response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > _MAX_DOCUMENT_BYTES:
                        raise IssuerUnavailable("document_too_large")
            document = json.loads(body)
            if not isinstance(document, dict):
                raise IssuerUnavailable("invalid_document")
            return document
        except IssuerUnavailable as failure:
            log.warning("the issuer's %s answered no usable document: %s", url, failure.reason)
            raise
        except (httpx.HTTPError, ValueError, RecursionError) as error:
            log.warning("the issuer could not be reached at %s: %s", url, type(error).__name__)
            raise IssuerUnavailable("unreachable") from None

    def _bind(self, kid: str, jwk: dict[str, Any], alg: str) -> jwt.PyJWK:
        """The JWK as a key for `alg` alone: its type (and curve) must fit the algorithm,
        and a JWK that names its own `alg` serves that algorithm only (RFC 7517 §4.4)."""
        kty, curves = KEY_TYPES[alg]
        if jwk.get("kty") != kty or (curves is not None and jwk.get("crv") not in curves) \
                or jwk.get("alg", alg) != alg:
            raise InvalidToken("key_algorithm_mismatch")
        try:
            parsed = jwt.PyJWK(jwk, algorithm=alg)
        except jwt.PyJWTError:
            log.warning("the issuer's key %s cannot be used for %s", kid, alg)
            raise InvalidToken("unusable_key") from None
        self._parsed[(kid, alg)] = parsed
        return parsed


# PyJWT's errors, most specific first, as reason codes.
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidIssuerError, "wrong_issuer"),
    (jwt.InvalidAudienceError, "wrong_audience"),
    (jwt.MissingRequiredClaimError, "missing_claim"),
    (jwt.InvalidSignatureError, "bad_signature"),
    (jwt.InvalidAlgorithmError, "algorithm_not_allowed"),
    (jwt.InvalidKeyError, "unusable_key"),
    (jwt.DecodeError, "malformed"),
)


class Authenticator:
    """Verifies bearer tokens: `await authenticator.principal(token)` → `Principal`."""

    def __init__(self, settings: OidcSettings, keys: SigningKeys | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.keys = keys or SigningKeys(settings)
        self.clock = clock  # seconds since the epoch, as `exp` counts them
        # SHA-256 of a token verified → (who it names, its exp, its kid). ADR 0027.
        self._verified: dict[bytes, tuple[Principal, float, str]] = {}
        self._warming: asyncio.Task[None] | None = None
        self._options: Options = {
            "require": ["exp", "iat", "iss", "aud"], "enforce_minimum_key_length": True,
        }

    @classmethod
    def from_env(cls) -> "Authenticator":
        return cls(OidcSettings())

    async def start(self) -> None:
        """Warm the key cache in the background: an issuer not up yet is no reason for the
        service not to start (the keys are asked for again at the first request)."""
        if not self.settings.issuer:
            log.warning("OIDC_ISSUER is not set: nobody can sign in to this service's API")
            return
        self._warming = asyncio.create_task(self._warm(), name="oidc-keys")

    async def _warm(self) -> None:
        try:
            await self.keys.refresh()
        except IssuerUnavailable as error:
            log.warning("signing keys not fetched at start (%s); asked again at the first request", error.reason)

    async def aclose(self) -> None:
        if self._warming is not None:
            self._warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._warming
            self._warming = None
        await self.keys.aclose()

    async def principal(self, token: str) -> Principal:
        """Verify `token` (the bearer credential, without the scheme) and return who it
        names. Raises `InvalidToken` or `IssuerUnavailable`."""
        if len(token) > _MAX_TOKEN_CHARS:
            raise InvalidToken("malformed")
        digest = hashlib.sha256(token.encode()).digest() if self.settings.verified_tokens else b""
        if (known := self._verified.get(digest)) is not None:
            principal, expires, known_kid = known
            # Taken as verified before only while it has not expired (no leeway: a token in
            # its leeway is verified in full each time) and its key is still the issuer's
            # (a key withdrawn from the JWKS, once fetched, refuses its tokens at once).
            if self.clock() < expires and self.keys.current(known_kid):
                return principal
            del self._verified[digest]
        header = _unverified_header(token)
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or alg not in self.settings.algorithms:
            raise InvalidToken("algorithm_not_allowed")
        if not isinstance(kid, str):
            raise InvalidToken("missing_key_id")
        key = await self.keys.key(kid, alg)
        try:
            claims = jwt.decode(
                token, key, algorithms=[alg], audience=self.settings.audience, issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds, options=self._options,
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(next((reason for kind, reason in _REASONS if isinstance(error, kind)),
                                    "invalid")) from None
        principal = principal_from(claims, self.settings.advocate_claim, self.settings.roles_claim)
        if digest:
            self._remember(digest, principal, claims["exp"], kid)
        return principal

    def _remember(self, digest: bytes, principal: Principal, expires: Any, kid: str) -> None:
        """Keep a verified token's principal until its `exp` (a number: PyJWT checked it). At
        most `verified_tokens` are kept: when full, the expired go, and if none had, all."""
        if not isinstance(expires, int | float) or isinstance(expires, bool) or self.clock() >= expires:
            return
        if len(self._verified) >= self.settings.verified_tokens:
            now = self.clock()
            self._verified = {d: v for d, v in self._verified.items() if now < v[1]}
            if len(self._verified) >= self.settings.verified_tokens:
                self._verified.clear()
        self._verified[digest] = (principal, float(expires), kid)


def _unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, only to choose the key and algorithm that `jwt.decode` then checks
    the whole token with (it parses the header again and refuses one that differs from
    the algorithm chosen). Read here because `jwt.get_unverified_header` checks every
    character of all three segments in Python, as `jwt.decode` does once more: twice a
    fifth of a consent command's verification (py-spy). Raises `InvalidToken("malformed")`."""
    if not _COMPACT.fullmatch(token):
        raise InvalidToken("malformed")
    segment = token[:token.index(".")].rstrip("=")
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error, RecursionError):  # UnicodeDecodeError is a ValueError
        raise InvalidToken("malformed") from None
    if not isinstance(header, dict):
        raise InvalidToken("malformed")
    return header
