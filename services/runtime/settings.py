"""Service configuration, from environment variables only, with working local defaults.

The defaults point at the local stack (`python -m deploy.local up`): Kafka on
127.0.0.1:29092, Postgres on 127.0.0.1:25432 with one login role per service. Those
defaults are public, so they are fit for a laptop only: outside local mode
(`ADVOCACY_ENV=local`, which the local stack, the tests and the benchmarks set) a service
refuses to start while a key or a password is missing or one this repository ships
(`refusals`, checked by services/runtime/service.py before anything else happens).
"""

import os
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, PrivateAttr, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.platform import load_platform

# The smallest K_ANONYMITY a service starts with (metrics' groups, distribution's audience
# sizes). Below 3, a group figure is one person's or is told apart by the one other member
# (review S18); ADR 0008 asks for 5, the default.
K_ANONYMITY_FLOOR = 3

# The default of every key (CLICK_SECRET, CONSENT_PSEUDONYM_KEY): public, so whoever reads
# this file can undo what it keys. Allowed in local mode only, warned about at every start.
DEVELOPMENT_SECRET = "local-development-only"
# The shortest key accepted outside local mode: 32 characters (`openssl rand -hex 32` gives 64),
# so that a key is never a word an attacker tries first (review S4).
MIN_KEY_LENGTH = 32
LOCAL = "local"  # the value of ADVOCACY_ENV that allows development defaults
# The management endpoints (/health, /ready, /metrics) listen this far above HTTP_PORT unless
# MANAGEMENT_PORT says otherwise: 8081 -> 8091 on a laptop, 8080 -> 8090 in a container.
MANAGEMENT_PORT_OFFSET = 10


def development_passwords(user: str) -> set[str]:
    """Every password this repository ships for `user`: the local stack's (the role's own
    name), the old compose defaults (`<user>-local`), the Kubernetes dev overlay's (`<user>-dev`)
    and the development key."""
    return {user, f"{user}-local", f"{user}-dev", DEVELOPMENT_SECRET}


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    service: str
    # "local" on a laptop and in tests: development defaults are allowed (and warned about).
    # Anything else, or nothing, is a deployment: they are refused (`refusals`).
    advocacy_env: str = ""
    kafka_bootstrap_servers: str = "127.0.0.1:29092"
    # How the service authenticates to Kafka as its own principal (services/runtime/kafka_client.py):
    # PLAINTEXT locally; SASL_PLAINTEXT or SASL_SSL with SCRAM where ACLs are enforced.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    # PEM file of the CA that signed the brokers' certificates (SSL, SASL_SSL): Strimzi's cluster
    # CA on Kubernetes. Empty: the system's trusted CAs (a managed Kafka with a public certificate).
    kafka_ssl_cafile: str = ""
    database_url: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 0  # the public port: the service's API (/api/) and distribution's redirect (/r/)
    # /health, /ready and /metrics, on a port of their own: probes and Prometheus reach it, the
    # Internet does not (the Ingress and the NetworkPolicy expose HTTP_PORT only). 0: HTTP_PORT + 10.
    management_port: int = 0
    # How long a request's body may take to arrive, from its headers, before it is answered 408
    # and the connection closed (services/runtime/api/app.py): a client that declares more than
    # it sends, or trickles it, holds a connection and a handler no longer. 64 KB in 10 s is a
    # client slower than 52 kbit/s; uvicorn itself has no such limit.
    http_body_timeout_seconds: float = Field(default=10.0, gt=0)
    log_level: str = "INFO"
    outbox_batch_size: int = 500
    outbox_poll_seconds: float = 1.0
    # How long a handler keeps retrying a transient fault before the message is
    # handed back to Kafka (nack) to be redelivered.
    retry_deadline_seconds: float = 60.0
    # Most commands or events a subscriber handles in one transaction (`Inbox.handle_each_once`):
    # a commit (and a Kafka offset commit) per message capped a subscriber at a few hundred
    # messages/s here; batched, consent answers 500 commands/s with p99 ~100 ms.
    event_batch_size: int = 100
    # A command on Kafka whose CloudEvents `time` is further than this from now is refused
    # (`command_not_fresh`): an old command replayed (from dead letters, say) after what
    # followed it, e.g. an erasure request long since superseded, is not applied (ADR 0019).
    command_max_age_seconds: float = Field(default=86400.0, gt=0)
    # Handled event ids are forgotten after this; longer than any topic's retention (30 days).
    inbox_retention_days: float = 45.0
    # How far this service yields the CPU to the others on a machine they share: the nice value
    # (0-19) it takes at start, for its threads and, where the kernel groups by session, its
    # session's group (services/runtime/priority.py; Kubernetes: a smaller CPU request instead).
    # 0 for every service by default: metrics applies withdrawals too, and at 10 they reached
    # its figures seconds late on a saturated machine (ADR 0029).
    cpu_nice: int = Field(default=0, ge=0, le=19)

    _database_url_given: bool = PrivateAttr(default=True)

    def model_post_init(self, _context: object) -> None:
        if self.kafka_security_protocol.startswith("SASL") and not (
                self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()):
            raise ValueError("SASL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
        if not self.database_url:
            self._database_url_given = False
            self.database_url = f"postgresql://{self.service}:{self.service}@127.0.0.1:25432/advocacy"
        if not self.http_port:
            self.http_port = load_platform().services.get(self.service, 8080)
        if not self.management_port:
            self.management_port = self.http_port + MANAGEMENT_PORT_OFFSET

    @property
    def dead_letter_topic(self) -> str:
        return f"advocacy.{self.service}.deadletter.v1"

    @property
    def source(self) -> str:
        """CloudEvents `source` of everything this service emits."""
        return f"/advocacy/{self.service}"

    @property
    def local(self) -> bool:
        """Whether this process runs in local mode (`ADVOCACY_ENV=local`)."""
        return self.advocacy_env == LOCAL

    def keys(self) -> dict[str, SecretStr]:
        """The service's keys by variable name (CLICK_SECRET, CONSENT_PSEUDONYM_KEY): every
        secret setting but the Kafka password, which is checked as a password."""
        return {name.upper(): value for name, value in self if isinstance(value, SecretStr)
                and name != "kafka_sasl_password"}

    def secrets_left_at_default(self) -> list[str]:
        """Names of keys still at the development default (reversible hashes!)."""
        return [name for name, value in self.keys().items() if value.get_secret_value() == DEVELOPMENT_SECRET]

    def refusals(self) -> list[str]:
        """Why this service must not start, one short clause each, naming the variable and
        never its value; empty when it may. Outside local mode: a key missing, at the
        development default or shorter than MIN_KEY_LENGTH; DATABASE_URL missing, without a
        password or with a development password; a development Kafka password (review S4).
        Always: the management endpoints on the public port. Services add their own rules."""
        problems = []
        if self.management_port == self.http_port:
            problems.append(f"MANAGEMENT_PORT is HTTP_PORT ({self.http_port}): /metrics and /ready would be public")
        if self.local:
            return problems
        for name, value in self.keys().items():
            key = value.get_secret_value()
            if not key or name.lower() not in self.model_fields_set:  # left to its default
                problems.append(f"{name} is not set")
            elif key == DEVELOPMENT_SECRET:
                problems.append(f"{name} is the development default")
            elif len(key) < MIN_KEY_LENGTH:
                problems.append(f"{name} is shorter than {MIN_KEY_LENGTH} characters")
        problems += self._database_refusals()
        if self.kafka_security_protocol.startswith("SASL") and self.kafka_sasl_password.get_secret_value() \
                in development_passwords(self.kafka_sasl_username):
            problems.append("KAFKA_SASL_PASSWORD is a development password")
        return problems

    def _database_refusals(self) -> list[str]:
        if not self._database_url_given:
            return ["DATABASE_URL is not set (the default is the local stack's)"]
        try:
            url = urlsplit(self.database_url)
            user, password = unquote(url.username or ""), unquote(url.password or "")
        except ValueError:
            return ["DATABASE_URL is not a URL"]
        if not password:
            # libpq's other ways to log in (asyncpg reads both): PGPASSWORD, a client certificate.
            return [] if os.environ.get("PGPASSWORD") or "sslcert=" in url.query else ["DATABASE_URL has no password"]
        if password in development_passwords(user) | development_passwords(self.service):
            return ["DATABASE_URL's password is a development password"]
        return []


class GroupFigureSettings(ServiceSettings):
    """A service that tells figures about groups of people (metrics' reports, distribution's
    audience sizes): `K_ANONYMITY` people at least per group, refused below K_ANONYMITY_FLOOR
    at start, in local mode too (review S18; ADR 0008 asks for 5, the default)."""

    k_anonymity: int = 5

    def refusals(self) -> list[str]:
        problems = super().refusals()
        if self.k_anonymity < K_ANONYMITY_FLOOR:
            problems.append(f"K_ANONYMITY is {self.k_anonymity}, below the floor of {K_ANONYMITY_FLOOR}: "
                            "groups that small single people out")
        return problems
