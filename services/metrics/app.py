"""Wiring only: settings, subscribers, schedules, the HTTP API. `python -m services.metrics`
runs this service as its own process."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from schemas import consent, curation
from schemas import directory as d
from schemas import metrics as m
from services.metrics import domain, store
from services.metrics.api import build_api
from services.metrics.config import MetricsSettings, MetricsTopics
from services.metrics.handlers import COUNTED, MetricsHandlers
from services.runtime.handling import answering, dispatch, signed_in_only
from services.runtime.identity import OidcSettings
from services.runtime.routing import ServiceRouter
from services.runtime.scheduler import Schedule
from services.runtime.service import Service

MIGRATIONS = Path(__file__).with_name("migrations")


def build_service(
    settings: MetricsSettings, topics: MetricsTopics = MetricsTopics(),
    clock: Callable[[], datetime] = lambda: datetime.now(UTC), identity: OidcSettings | None = None,
) -> Service:
    handlers = MetricsHandlers(settings, topics, settings.rate_cards(), clock)
    router = ServiceRouter(settings.service, batch_size=settings.event_batch_size)
    # Reports are an analyst's and "my impact" the person's, both read over HTTP, signed in:
    # on Kafka, where the actor is whatever the sender wrote, both commands are refused.
    kafka_commands = signed_in_only(handlers.commands, (m.RenderReport, m.RenderMyImpact), m.Reason.SIGN_IN_REQUIRED)
    router.consume("commands", topics.commands, m.MetricsCommand, answering(
        kafka_commands, topics.events, m.MetricsCommandRejected, settings.service,
        max_age=timedelta(seconds=settings.command_max_age_seconds)))
    router.consume("directory", topics.directory, d.DirectoryEvent, dispatch(handlers.directory))
    router.consume("consent", topics.consent_events, consent.ConsentEvent, dispatch(handlers.consent_events))
    router.consume("curation", topics.curation_events, curation.AnyEvent, dispatch(handlers.curation_events))
    # Shares and clicks, observations and follower counts: counted in big batches, one
    # transaction each, without an inbox row per event (ADR 0021).
    for name, topic in (("distribution", topics.distribution_events), ("engagement", topics.engagement)):
        router.consume_counted(name, topic, COUNTED, store.Counting, handlers.count,
                               domain.counted_once_by_construction, max_records=settings.ingest_batch_size)
    router.publishes("events", topics.events, m.MetricsEvent)
    snapshots = Schedule("snapshots", handlers.publish_due_snapshots, settings.snapshot_seconds, clock)
    releases = Schedule("week-releases", handlers.release_due_week, settings.snapshot_seconds, clock)
    visitors = Schedule("visitor-hashes", handlers.forget_visitors, 3600, clock)
    service = Service(settings, router, MIGRATIONS, [snapshots, releases, visitors], topics=topics)
    service.mount_api(build_api(handlers, settings, identity or OidcSettings()))
    return service


service = build_service(MetricsSettings())
app = service.app  # its AsyncAPI document (services.export); the process runs `service.main()`
