"""The consent service's settings (environment variables) and the topics it uses."""

from dataclasses import dataclass

from pydantic import Field, SecretStr

from schemas import consent, directory
from services.runtime.settings import ServiceSettings


class ConsentSettings(ServiceSettings):
    service: str = "consent"
    # 24 months; at most ten years, which also keeps every expiry inside the contracts'
    # instants (before 2100, ADR 0037): a larger setting would make every give fail.
    consent_expiry_days: int = Field(default=730, ge=1, le=3650)
    consent_expiry_interval_seconds: float = 60.0
    consent_expiry_batch_size: int = 500
    # How long a give or refusal over HTTP waits for consent to read a person it does not
    # know yet (HR's `person.joined` may be a moment behind the person's first click).
    consent_directory_hold_seconds: float = Field(default=5.0, ge=0, le=30)
    # Key of the ledger's one-way pseudonym (HMAC-SHA-256 of the advocate id). Without
    # it nobody can link ledger entries to an id, not even by guessing ids.
    consent_pseudonym_key: SecretStr = SecretStr("local-development-only")
    consent_controller: str = "The company running the platform"
    consent_controller_contact: str = "privacy@example.com"


@dataclass(frozen=True)
class ConsentTopics:
    commands: str = consent.COMMANDS_TOPIC
    events: str = consent.EVENTS_TOPIC
    state: str = consent.STATE_TOPIC
    policies: str = consent.POLICIES_TOPIC
    directory: str = directory.TOPIC
