"""Metrics' settings (environment variables) and topics (injectable for tests)."""

import tomllib
from dataclasses import dataclass
from pathlib import Path

from schemas import consent, curation, directory, distribution, engagement, metrics
from services.metrics.domain import RateCards
from services.runtime.settings import GroupFigureSettings


class MetricsSettings(GroupFigureSettings):
    service: str = "metrics"
    # k_anonymity (GroupFigureSettings): a group figure needs at least this many distinct people.
    emv_rates_file: Path = Path(__file__).with_name("emv_rates.toml")
    snapshot_seconds: float = 60.0  # how often changed items and campaigns get a MetricSnapshot
    # A week released (ADR 0023) that changes again is released again at most this often;
    # reports decide it from its rows meanwhile.
    release_seconds: float = 300.0
    # Records per batch, one transaction each. 10,000 rather than 5,000: in alternating runs
    # (benchmarks.metrics_ingestion, 2026-12-04) 14 % less of the process's CPU an event (the
    # decode-only consumer's the same), much of it in aiokafka's building of records. Up to two
    # batches of raw records per counted topic in memory: tens of MB at most.
    ingest_batch_size: int = 10_000

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
