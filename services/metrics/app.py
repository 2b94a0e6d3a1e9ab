"""Wiring only: `python -m services.metrics` runs this service as its own process."""

from pathlib import Path

from services.metrics import commands, handlers
from services.metrics.config import MetricsSettings, MetricsTopics
from services.metrics.domain import load_rates
from services.metrics.snapshots import snapshotter
from services.runtime.scheduler import Schedule
from services.runtime.routing import ServiceRouter
from services.runtime.service import Service


def build_service(settings: MetricsSettings, topics: MetricsTopics = MetricsTopics()) -> Service:
    router = ServiceRouter(settings.service)
    handlers.subscribe(router, settings, topics)
    commands.subscribe(router, settings, topics)
    snapshots = Schedule("snapshots", snapshotter(topics.events, load_rates(settings.emv_rates_file)),
                         settings.snapshot_seconds)
    return Service(settings, router, Path(__file__).with_name("migrations"), [snapshots])


service = build_service(MetricsSettings())
app = service.app
