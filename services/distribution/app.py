"""Wiring only: settings, subscribers, schedules and the redirect.
`python -m services.distribution` runs this service as its own process."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from schemas import consent, curation, engagement
from schemas import directory as d
from schemas import distribution as dist
from services.distribution.config import DistributionSettings, DistributionTopics
from services.distribution.handlers import DistributionHandlers
from services.distribution.redirect import Redirect
from services.runtime.handling import answering, dispatch
from services.runtime.routing import ServiceRouter
from services.runtime.scheduler import Schedule
from services.runtime.service import Service

MIGRATIONS = Path(__file__).with_name("migrations")


def build_service(
    settings: DistributionSettings, topics: DistributionTopics = DistributionTopics(),
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Service:
    handlers = DistributionHandlers(settings, topics, clock)
    router = ServiceRouter(settings.service, batch_size=settings.event_batch_size)
    router.consume("commands", topics.commands, dist.RequestShare, answering(
        handlers.commands, topics.events, dist.DistributionCommandRejected, settings.service))
    router.consume("directory", topics.directory, d.DirectoryEvent, dispatch(handlers.directory))
    # Batched: a withdrawal must not wait behind a queue of other people's consent changes.
    router.consume("consent", topics.consent_events, consent.ConsentEvent, dispatch(handlers.consent_events))
    router.consume("curation", topics.curation_events, curation.AnyEvent, dispatch(handlers.curation_events))
    router.consume("engagement", topics.engagement, engagement.EngagementEvent, dispatch(handlers.engagement))
    router.publishes("events", topics.events, dist.DistributionEvent)
    schedules = [
        Schedule("notifications", handlers.send_due_notifications, settings.schedule_seconds, clock),
        Schedule("scheduled-shares", handlers.request_due_posts, settings.schedule_seconds, clock),
    ]
    service = Service(settings, router, MIGRATIONS, schedules)
    service.mount("/r/", Redirect(settings, topics, lambda: service.pool))
    return service


service = build_service(DistributionSettings())
app = service.app
