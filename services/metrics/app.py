"""Wiring only: settings, subscribers, schedules. `python -m services.metrics` runs this
service as its own process."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from schemas import consent, curation
from schemas import directory as d
from schemas import metrics as m
from services.metrics.config import MetricsSettings, MetricsTopics
from services.metrics.handlers import COUNTED, MetricsHandlers
from services.runtime import directory
from services.runtime.handling import answering, dispatch
from services.runtime.routing import ServiceRouter
from services.runtime.scheduler import Schedule
from services.runtime.service import Service

MIGRATIONS = Path(__file__).with_name("migrations")


def build_service(
    settings: MetricsSettings, topics: MetricsTopics = MetricsTopics(),
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Service:
    handlers = MetricsHandlers(settings, topics, settings.rate_cards(), clock)
    router = ServiceRouter(settings.service, batch_size=settings.event_batch_size)
    # Reports take a while: one command per transaction, so a report never waits for others.
    router.consume("commands", topics.commands, m.MetricsCommand, answering(
        handlers.commands, topics.events, m.MetricsCommandRejected, settings.service), max_records=1)
    router.consume("directory", topics.directory, d.DirectoryEvent, directory.apply)
    router.consume("consent", topics.consent_events, consent.ConsentEvent, dispatch(handlers.consent_events))
    router.consume("curation", topics.curation_events, curation.AnyEvent, dispatch(handlers.curation_events))
    # Shares and clicks, observations and follower counts: counted in big batches, one
    # transaction each.
    for name, topic in (("distribution", topics.distribution_events), ("engagement", topics.engagement)):
        router.consume_batches(name, topic, COUNTED, handlers.count, max_records=settings.ingest_batch_size)
    router.publishes("events", topics.events, m.MetricsEvent)
    snapshots = Schedule("snapshots", handlers.publish_due_snapshots, settings.snapshot_seconds, clock)
    return Service(settings, router, MIGRATIONS, [snapshots])


service = build_service(MetricsSettings())
app = service.app
