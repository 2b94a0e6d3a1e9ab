"""Wiring only: settings, subscribers, schedules, the redirect and the HTTP API.
`python -m services.distribution` runs this service as its own process."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from schemas import consent, curation, engagement
from schemas import directory as d
from schemas import distribution as dist
from services.distribution import visitor_salts
from services.distribution.api import build_api
from services.distribution.config import DistributionSettings, DistributionTopics
from services.distribution.handlers import DistributionHandlers
from services.distribution.redirect import Redirect
from services.runtime.handling import answering, dispatch, signed_in_only
from services.runtime.identity import OidcSettings
from services.runtime.routing import ServiceRouter
from services.runtime.scheduler import Schedule
from services.runtime.service import Service

MIGRATIONS = Path(__file__).with_name("migrations")


def build_service(
    settings: DistributionSettings, topics: DistributionTopics = DistributionTopics(),
    clock: Callable[[], datetime] = lambda: datetime.now(UTC), identity: OidcSettings | None = None,
) -> Service:
    """The service; its HTTP API trusts `identity` (default: the `OIDC_*` environment)."""
    handlers = DistributionHandlers(settings, topics, clock)
    router = ServiceRouter(settings.service, batch_size=settings.event_batch_size)
    # Both commands act for a person: taken only through the HTTP API, signed in (ADR 0006).
    on_kafka = signed_in_only(handlers.commands, [dist.RequestShare, dist.CancelShare], dist.Reason.SIGN_IN_REQUIRED)
    router.consume("commands", topics.commands, dist.DistributionCommand, answering(
        on_kafka, topics.events, dist.DistributionCommandRejected, settings.service,
        max_age=timedelta(seconds=settings.command_max_age_seconds)))
    router.consume("directory", topics.directory, d.DirectoryEvent, dispatch(handlers.directory))
    # Batched: a withdrawal must not wait behind a queue of other people's consent changes.
    router.consume("consent", topics.consent_events, consent.ConsentEvent, dispatch(handlers.consent_events))
    router.consume("curation", topics.curation_events, curation.AnyEvent, dispatch(handlers.curation_events))
    router.consume("engagement", topics.engagement, engagement.EngagementEvent, dispatch(handlers.engagement))
    router.publishes("events", topics.events, dist.DistributionEvent)
    router.publishes("posts", topics.posts, dist.PostEvent)
    router.publishes("items", topics.items, dist.ItemEvent)
    schedules = [
        Schedule("notifications", handlers.send_due_notifications, settings.schedule_seconds, clock),
        Schedule("scheduled-shares", handlers.request_due_posts, settings.schedule_seconds, clock),
        Schedule("unplaced-yeses", handlers.place_yeses, settings.schedule_seconds, clock),
        Schedule("audience-growth", handlers.tell_audience_growth, settings.distribution_audience_report_seconds,
                 clock),
    ]
    redirect = Redirect(settings, topics, lambda: service.pool)
    # Visitor hashes cannot be computed again once their day's salt is gone (visitor_salts.py);
    # on the wall clock, as the redirect dates clicks.
    schedules.append(Schedule("visitor-salts", redirect.forget_past_salts, visitor_salts.FORGET_SECONDS))
    service = Service(settings, router, MIGRATIONS, schedules, topics=topics)
    service.mount("/r/", redirect)
    service.mount_api(build_api(handlers, settings, identity or OidcSettings()))
    return service


service = build_service(DistributionSettings())
app = service.app  # its AsyncAPI document (services.export); the process runs `service.main()`
