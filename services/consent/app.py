"""Wiring only: settings, subscribers, schedules. `python -m services.consent` runs this
service as its own process."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from schemas import consent as c
from schemas import directory as d
from services.consent.config import ConsentSettings, ConsentTopics
from services.consent.handlers import ConsentHandlers
from services.runtime.handling import answering, dispatch
from services.runtime.routing import ServiceRouter
from services.runtime.scheduler import Schedule
from services.runtime.service import Service

MIGRATIONS = Path(__file__).with_name("migrations")


def build_service(
    settings: ConsentSettings, topics: ConsentTopics = ConsentTopics(),
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Service:
    handlers = ConsentHandlers(settings, topics, clock)
    router = ServiceRouter(settings.service, batch_size=settings.event_batch_size)
    router.consume("commands", topics.commands, c.ConsentCommand, answering(
        handlers.commands, topics.events, c.ConsentCommandRejected, settings.service))
    router.consume("directory", topics.directory, d.DirectoryEvent, dispatch(handlers.directory))
    router.publishes("events", topics.events, c.ConsentEvent)
    router.publishes("state", topics.state, c.ConsentState,
                     description="Compacted, key `advocate_id:purpose`; a null value (tombstone) on erasure")
    expiry = Schedule("consent-expiry", handlers.expire_due, settings.consent_expiry_interval_seconds, clock=clock)
    return Service(settings, router, MIGRATIONS, schedules=[expiry])


service = build_service(ConsentSettings())
app = service.app
