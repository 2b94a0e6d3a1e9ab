"""Wiring only: settings, subscribers, schedules, the HTTP API. `python -m services.curation`
runs this service as its own process."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from schemas import consent
from schemas import curation as c
from schemas import directory as d
from services.curation.api import build_api
from services.curation.audit import Channel
from services.curation.config import CurationSettings, CurationTopics
from services.curation.handlers import CurationHandlers
from services.runtime import directory
from services.runtime.handling import answering, dispatch, signed_in_only
from services.runtime.identity import OidcSettings
from services.runtime.routing import ServiceRouter
from services.runtime.scheduler import Schedule
from services.runtime.service import Service

MIGRATIONS = Path(__file__).with_name("migrations")


def build_service(
    settings: CurationSettings, topics: CurationTopics = CurationTopics(),
    clock: Callable[[], datetime] = lambda: datetime.now(UTC), identity: OidcSettings | None = None,
) -> Service:
    """`identity`: whom the HTTP API trusts (default: the `OIDC_*` environment)."""
    handlers = CurationHandlers(settings, topics, clock)
    router = ServiceRouter(settings.service, batch_size=settings.event_batch_size)
    # Approving and sending back are four eyes between two signed-in people: never on Kafka.
    kafka_commands = signed_in_only(handlers.commands, [c.ApproveItem, c.SendBackItem], c.Reason.SIGN_IN_REQUIRED)
    # A command's events and audit entry are written once a batch (ADR 0047): no command reads them back.
    router.consume("commands", topics.commands, c.AnyCommand, answering(
        kafka_commands, topics.events, c.CurationCommandRejected, settings.service,
        max_age=timedelta(seconds=settings.command_max_age_seconds)), defer_writes=True)
    router.consume("directory", topics.directory, d.DirectoryEvent, directory.apply)
    router.consume("erasures", topics.consent_events, consent.ConsentEvent, dispatch(handlers.consent_events))
    router.publishes("events", topics.events, c.AnyEvent)
    schedules = [
        Schedule("publish-and-expire", handlers.publish_and_expire_due, settings.schedule_seconds, clock),
        Schedule("feed-poller", handlers.poll_due_source, settings.schedule_seconds, clock),
    ]
    service = Service(settings, router, MIGRATIONS, schedules, topics=topics)
    service.mount_api(build_api(CurationHandlers(settings, topics, clock, Channel.API), settings,
                                identity or OidcSettings()))
    return service


service = build_service(CurationSettings())
app = service.app  # its AsyncAPI document (services.export); the process runs `service.main()`
