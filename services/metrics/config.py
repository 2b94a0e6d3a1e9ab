"""Metrics' settings (environment variables) and topics (injectable for tests)."""

import tomllib
from dataclasses import dataclass
from pathlib import Path

from schemas import consent, curation, directory, distribution, engagement, metrics
from services.metrics.domain import RateCards
from services.runtime.settings import K_ANONYMITY_FLOOR, ServiceSettings


class MetricsSettings(ServiceSettings):
    service: str = "metrics"
    k_anonymity: int = 5  # a group figure (org unit, location) needs at least this many distinct people
    emv_rates_file: Path = Path(__file__).with_name("emv_rates.toml")
    snapshot_seconds: float = 60.0  # how often changed items and campaigns get a MetricSnapshot
    ingest_batch_size: int = 5000  # records per batch, one transaction each

    def refusals(self) -> list[str]:
        """The runtime's, and K_ANONYMITY below K_ANONYMITY_FLOOR (in local mode too)."""
        problems = super().refusals()
        if self.k_anonymity < K_ANONYMITY_FLOOR:
            problems.append(f"K_ANONYMITY is {self.k_anonymity}, below the floor of {K_ANONYMITY_FLOOR}: "
                            "groups that small single people out")
        return problems

    def rate_cards(self) -> RateCards:
        """The EMV rates, read from `emv_rates_file` (read once, at start)."""
        return RateCards.parse(tomllib.loads(self.emv_rates_file.read_text()))


@dataclass(frozen=True)
class MetricsTopics:
    commands: str = metrics.COMMANDS_TOPIC
    events: str = metrics.EVENTS_TOPIC
    directory: str = directory.TOPIC
    consent_events: str = consent.EVENTS_TOPIC
    curation_events: str = curation.EVENTS_TOPIC
    distribution_events: str = distribution.EVENTS_TOPIC
    engagement: str = engagement.TOPIC
