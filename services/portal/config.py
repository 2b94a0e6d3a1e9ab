"""The portal's settings, from environment variables only, with local defaults.

The portal is a backend-for-frontend: people sign in at the OpenID Connect issuer
(`OIDC_ISSUER`, the same variable the services read) through the portal's confidential
client (`PORTAL_CLIENT_ID`, `PORTAL_CLIENT_SECRET`), and it calls the four services' HTTP
APIs (`CURATION_URL`, `CONSENT_URL`, `DISTRIBUTION_URL`, `METRICS_URL`) with the person's
access token. It has no database and no Kafka client.

`PORTAL_PUBLIC_URL` is where people reach it (default `http://127.0.0.1:<HTTP_PORT>`):
the callback registered at the issuer is `<PORTAL_PUBLIC_URL>/auth/callback`, and cookies
are `Secure` unless it is plain http on a loopback address (local mode).
"""

import ipaddress
import secrets
from urllib.parse import urlsplit

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.runtime.settings import DEVELOPMENT_SECRET, LOCAL, MIN_KEY_LENGTH

CALLBACK_PATH = "/auth/callback"  # deploy/local/keycloak.py: PORTAL_CALLBACK_PATH, registered at the realm


class PortalSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    service: str = "portal"
    http_host: str = "127.0.0.1"
    http_port: int = 8085
    log_level: str = "INFO"
    portal_public_url: str = ""  # empty: http://127.0.0.1:<http_port>

    oidc_issuer: str = "http://127.0.0.1:28080/realms/advocacy"
    oidc_audience: str = "advocacy-api"  # what the access tokens the portal hands on must name
    portal_client_id: str = "advocacy-portal"
    portal_client_secret: SecretStr = SecretStr("advocacy-portal-local-secret")
    portal_scope: str = "openid"

    curation_url: str = "http://127.0.0.1:8081"
    consent_url: str = "http://127.0.0.1:8082"
    distribution_url: str = "http://127.0.0.1:8083"
    metrics_url: str = "http://127.0.0.1:8084"
    # Tracked links are counted in previews as distribution makes them (curation's setting too).
    public_base_url: str = "http://127.0.0.1:8083"

    # Signs the short-lived sign-in cookie (state, nonce, PKCE verifier). Empty: a random key
    # per process, so a sign-in begun before a restart has to begin again.
    portal_secret_key: SecretStr = SecretStr("")
    portal_session_idle_minutes: float = 30.0  # as Keycloak's SSO session idle
    portal_session_max_hours: float = 10.0  # as Keycloak's SSO session max
    portal_max_sessions: int = 10_000  # the least recently used goes first beyond it
    portal_timezone: str = "Europe/Berlin"  # dates and times are shown, and scheduled, in it
    portal_api_timeout_seconds: float = 10.0
    advocacy_env: str = ""  # "local": the development client secret and a per-process key are allowed

    def refusals(self) -> list[str]:
        """Why the portal must not start, naming the variable and never its value (as
        `ServiceSettings.refusals`): outside local mode, the client secret this repository
        ships for the local realm, or a missing or short cookie-signing key (a key per process
        would end every sign-in in flight at each restart and differ between replicas)."""
        if self.advocacy_env == LOCAL:
            return []
        problems = []
        secret = self.portal_client_secret.get_secret_value()
        if not secret or "portal_client_secret" not in self.model_fields_set or secret == DEVELOPMENT_SECRET:
            problems.append("PORTAL_CLIENT_SECRET is not set")
        key = self.portal_secret_key.get_secret_value()
        if len(key) < MIN_KEY_LENGTH:
            problems.append(f"PORTAL_SECRET_KEY is not set or shorter than {MIN_KEY_LENGTH} characters")
        return problems

    @property
    def public_url(self) -> str:
        return (self.portal_public_url or f"http://127.0.0.1:{self.http_port}").rstrip("/")

    @property
    def callback_url(self) -> str:
        return self.public_url + CALLBACK_PATH

    @property
    def local_mode(self) -> bool:
        """Plain http on a loopback host: the only case where cookies go without `Secure`
        (browsers treat loopback as a secure context; nothing else is)."""
        parts = urlsplit(self.public_url)
        if parts.scheme != "http":
            return False
        host = parts.hostname or ""
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    @property
    def secure_cookies(self) -> bool:
        return not self.local_mode

    def signing_key(self) -> str:
        key = self.portal_secret_key.get_secret_value()
        if key and key != DEVELOPMENT_SECRET:
            return key
        return _PROCESS_KEY


_PROCESS_KEY = secrets.token_urlsafe(32)
