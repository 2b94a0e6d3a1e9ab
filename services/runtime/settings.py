"""Service configuration, from environment variables only, with working local defaults.

The defaults point at the local stack (`python -m deploy.local up`): Kafka on
127.0.0.1:29092, Postgres on 127.0.0.1:25432 with one login role per service.
"""

from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.platform import load_platform

# The default of every secret setting: fine on a laptop, warned about at every start.
DEVELOPMENT_SECRET = "local-development-only"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    service: str
    kafka_bootstrap_servers: str = "127.0.0.1:29092"
    # How the service authenticates to Kafka as its own principal (services/runtime/kafka_client.py):
    # PLAINTEXT locally; SASL_PLAINTEXT or SASL_SSL with SCRAM where ACLs are enforced.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    database_url: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 0
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
    # Handled event ids are forgotten after this; longer than any topic's retention (30 days).
    inbox_retention_days: float = 45.0

    def model_post_init(self, _context: object) -> None:
        if self.kafka_security_protocol.startswith("SASL") and not (
                self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()):
            raise ValueError("SASL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
        if not self.database_url:
            self.database_url = f"postgresql://{self.service}:{self.service}@127.0.0.1:25432/advocacy"
        if not self.http_port:
            self.http_port = load_platform().services.get(self.service, 8080)

    @property
    def dead_letter_topic(self) -> str:
        return f"advocacy.{self.service}.deadletter.v1"

    @property
    def source(self) -> str:
        """CloudEvents `source` of everything this service emits."""
        return f"/advocacy/{self.service}"

    def secrets_left_at_default(self) -> list[str]:
        """Names of secret settings still at the development default (reversible hashes!)."""
        return [name.upper() for name, value in self if isinstance(value, SecretStr)
                and value.get_secret_value() == DEVELOPMENT_SECRET]
