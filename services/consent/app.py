"""Wiring only: `python -m services.consent` runs this service as its own process."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from services.consent.config import ConsentSettings, ConsentTopics
from services.consent.handlers import ConsentHandlers, build_router
from services.runtime.scheduler import Schedule
from services.runtime.service import Service

MIGRATIONS = Path(__file__).with_name("migrations")


def build_service(
    settings: ConsentSettings, topics: ConsentTopics = ConsentTopics(),
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Service:
    handlers = ConsentHandlers(settings, topics, clock)
    expiry = Schedule("consent-expiry", handlers.expire, settings.consent_expiry_interval_seconds, clock=clock)
    return Service(settings, build_router(handlers), MIGRATIONS, schedules=[expiry])


service = build_service(ConsentSettings())
app = service.app
