"""Wiring only: `python -m services.distribution` runs this service as its own process."""

from pathlib import Path

from services.distribution import handlers, notifications, sharing
from services.distribution.config import DistributionSettings, DistributionTopics
from services.distribution.redirect import Redirect
from services.runtime.scheduler import Schedule
from services.runtime.routing import ServiceRouter
from services.runtime.service import Service


def build_service(settings: DistributionSettings, topics: DistributionTopics = DistributionTopics()) -> Service:
    router = ServiceRouter(settings.service)
    handlers.subscribe(router, settings, topics)
    sharing.subscribe(router, settings, topics)
    schedules = [
        Schedule("notifications", notifications.notifier(
            settings.notification_daily_cap, settings.digest_hour_utc, topics.events), settings.schedule_seconds),
        Schedule("scheduled-shares", sharing.publisher(topics), settings.schedule_seconds),
    ]
    service = Service(settings, router, Path(__file__).with_name("migrations"), schedules)
    service.mount("/r/", Redirect(settings, topics, lambda: service.pool))
    return service


service = build_service(DistributionSettings())
app = service.app
