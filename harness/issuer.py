"""An OpenID Connect issuer for tests: its discovery document and JWKS served over real
HTTP on 127.0.0.1 (as Keycloak serves them), an RSA and an EC signing key, tokens signed
on demand, keys rotated on demand, and bad tokens of every kind the front door must refuse.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from services.runtime.identity import OidcSettings

AUDIENCE = "advocacy-api"
REALM = "/realms/test"


@dataclass
class SigningKey:
    kid: str
    alg: str
    private: Any
    names_alg: bool = True  # Keycloak's JWKs name their `alg`; Entra ID's do not

    def jwk(self) -> dict[str, Any]:
        to_jwk = RSAAlgorithm.to_jwk if self.alg.startswith(("RS", "PS")) else ECAlgorithm.to_jwk
        jwk = {**to_jwk(self.private.public_key(), as_dict=True), "kid": self.kid, "use": "sig"}
        return {**jwk, "alg": self.alg} if self.names_alg else jwk

    def public_pem(self) -> bytes:
        pem: bytes = self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        return pem


def rsa_key(kid: str | None = None, alg: str = "RS256") -> SigningKey:
    return SigningKey(kid or f"rsa-{uuid.uuid4().hex[:8]}", alg, rsa.generate_private_key(65537, 2048))


def ec_key(kid: str | None = None) -> SigningKey:
    return SigningKey(kid or f"ec-{uuid.uuid4().hex[:8]}", "ES256", ec.generate_private_key(ec.SECP256R1()))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class TestIssuer:
    """`with TestIssuer() as issuer:` serves `issuer.url`; `issuer.token(...)` signs one."""

    __test__ = False  # not a test class, despite its name

    def __init__(self) -> None:
        self.rsa, self.ec = rsa_key(), ec_key()
        self.published: list[SigningKey] = [self.rsa, self.ec]
        self.jwks_requests = 0
        self.answering = True  # False: every request gets a 503, as an issuer in trouble
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if not issuer.answering:
                    return self._send(503, {"error": "unavailable"})
                if self.path == f"{REALM}/.well-known/openid-configuration":
                    return self._send(200, {"issuer": issuer.url,
                                            "jwks_uri": f"{issuer.url}/protocol/openid-connect/certs"})
                if self.path == f"{REALM}/protocol/openid-connect/certs":
                    issuer.jwks_requests += 1
                    return self._send(200, {"keys": [key.jwk() for key in issuer.published]})
                self._send(404, {"error": "not found"})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{REALM}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="test-issuer")

    def __enter__(self) -> "TestIssuer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def settings(self, **overrides: Any) -> OidcSettings:
        return OidcSettings(**{"issuer": self.url, "audience": [AUDIENCE], **overrides})

    def rotate(self, keep_old: bool = False) -> SigningKey:
        """Publish a new RSA key, which signs from now on; the old one stays published or goes."""
        new = rsa_key()
        self.published = [*(self.published if keep_old else [k for k in self.published if k is not self.rsa]), new]
        self.rsa = new
        return new

    def claims(self, sub: str = "adv-000001", realm_roles: tuple[str, ...] = (), **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": self.url, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 300,
                  "realm_access": {"roles": list(realm_roles)}, "email": "jane.doe@example.com"}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, sub: str = "adv-000001", realm_roles: tuple[str, ...] = (), key: SigningKey | None = None,
              headers: dict[str, Any] | None = None, **claims: Any) -> str:
        """A token as the issuer signs it (RSA unless `key` says otherwise), with Keycloak's
        realm roles; `claims` override or (None) remove the usual ones. Carries an e-mail
        address, as real tokens do: it must never come back in a response or a log."""
        key = key or self.rsa
        headers = {name: value for name, value in {"kid": key.kid, **(headers or {})}.items() if value is not None}
        return jwt.encode(self.claims(sub, realm_roles, **claims), key.private, algorithm=key.alg, headers=headers)

    # Tokens no verifier may accept.

    def unsigned_token(self, **claims: Any) -> str:
        """`alg: none` (RFC 7519 §6): no signature at all."""
        header = {"alg": "none", "typ": "JWT", "kid": self.rsa.kid}
        return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(self.claims(**claims)).encode())}."

    def hmac_with_public_key(self, **claims: Any) -> str:
        """HS256 "signed" with the RSA public key as the secret: the algorithm-confusion
        attack on verifiers that let the token choose the algorithm (RFC 8725 §2.1)."""
        header = {"alg": "HS256", "typ": "JWT", "kid": self.rsa.kid}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(self.claims(**claims)).encode())}"
        signature = hmac.new(self.rsa.public_pem(), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    def tampered_token(self, **changes: Any) -> str:
        """A genuine token whose payload was changed afterwards (another `sub`, more roles)."""
        header, payload, signature = self.token().split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return f"{header}.{_b64(json.dumps({**claims, **changes}).encode())}.{signature}"
