"""Wiring only: `python -m services.curation` runs this service as its own process."""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from services.curation.config import CurationSettings, CurationTopics
from services.curation.handlers import build_router
from services.curation.poller import poll_feeds
from services.curation.scheduling import publish_and_expire
from services.runtime.scheduler import Schedule
from services.runtime.service import Service

MIGRATIONS = Path(__file__).with_name("migrations")


def build_service(
    settings: CurationSettings, topics: CurationTopics = CurationTopics(),
    clock: Callable[[], datetime] | None = None,
) -> Service:
    schedules = [
        Schedule("publish-and-expire", publish_and_expire(topics.events), settings.schedule_seconds, clock),
        Schedule("feed-poller", poll_feeds(settings, topics.events), settings.schedule_seconds, clock),
    ]
    router = build_router(settings, topics, schedules[0].clock)
    return Service(settings, router, MIGRATIONS, schedules)


service = build_service(CurationSettings())
app = service.app
