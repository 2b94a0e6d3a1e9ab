"""Wiring only: settings, subscribers, schedules. `python -m services.curation` runs this
service as its own process."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from schemas import consent
from schemas import curation as c
from schemas import directory as d
from services.curation.config import CurationSettings, CurationTopics
from services.curation.handlers import CurationHandlers
from services.runtime import directory
from services.runtime.handling import answering, dispatch
from services.runtime.routing import ServiceRouter
from services.runtime.scheduler import Schedule
from services.runtime.service import Service

MIGRATIONS = Path(__file__).with_name("migrations")


def build_service(
    settings: CurationSettings, topics: CurationTopics = CurationTopics(),
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Service:
    handlers = CurationHandlers(settings, topics, clock)
    router = ServiceRouter(settings.service, batch_size=settings.event_batch_size)
    router.consume("commands", topics.commands, c.AnyCommand, answering(
        handlers.commands, topics.events, c.CurationCommandRejected, settings.service))
    router.consume("directory", topics.directory, d.DirectoryEvent, directory.apply)
    router.consume("erasures", topics.consent_events, consent.ConsentEvent, dispatch(handlers.consent_events))
    router.publishes("events", topics.events, c.AnyEvent)
    schedules = [
        Schedule("publish-and-expire", handlers.publish_and_expire_due, settings.schedule_seconds, clock),
        Schedule("feed-poller", handlers.poll_due_source, settings.schedule_seconds, clock),
    ]
    return Service(settings, router, MIGRATIONS, schedules)


service = build_service(CurationSettings())
app = service.app
