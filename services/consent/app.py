"""Wiring only: settings, subscribers, schedules, the HTTP API. `python -m services.consent`
runs this service as its own process."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from schemas import consent as c
from schemas import directory as d
from services.consent.api import build_api
from services.consent.config import ConsentSettings, ConsentTopics
from services.consent.handlers import ConsentHandlers
from services.runtime.handling import Table, answering, dispatch, signed_in_only
from services.runtime.identity import OidcSettings
from services.runtime.routing import ServiceRouter
from services.runtime.scheduler import Schedule
from services.runtime.service import Service

MIGRATIONS = Path(__file__).with_name("migrations")
# Commands that act for a person: taken only through the front door, from who signed in.
PERSON_COMMANDS = (c.GiveConsent, c.RefuseConsent, c.WithdrawConsent)


def kafka_commands(handlers: ConsentHandlers) -> Table:
    """What the commands topic takes: the privacy office's and operators' system commands;
    a give, refusal or withdrawal there is refused `sign_in_required` (ADR 0006, 0012)."""
    return signed_in_only(handlers.commands, PERSON_COMMANDS, c.Reason.SIGN_IN_REQUIRED)


def build_service(
    settings: ConsentSettings, topics: ConsentTopics = ConsentTopics(),
    clock: Callable[[], datetime] = lambda: datetime.now(UTC), identity: OidcSettings | None = None,
) -> Service:
    handlers = ConsentHandlers(settings, topics, clock)
    router = ServiceRouter(settings.service, batch_size=settings.event_batch_size)
    router.consume("commands", topics.commands, c.ConsentCommand, answering(
        kafka_commands(handlers), topics.events, c.ConsentCommandRejected, settings.service,
        max_age=timedelta(seconds=settings.command_max_age_seconds)))
    router.consume("directory", topics.directory, d.DirectoryEvent, dispatch(handlers.directory))
    router.publishes("events", topics.events, c.ConsentEvent)
    router.publishes("state", topics.state, c.ConsentState,
                     description="Compacted, key `advocate_id:purpose`; a null value (tombstone) on erasure")
    router.publishes("policies", topics.policies, c.PolicyCurrent,
                     description="Compacted, key `purpose`: the current policy version and text")
    expiry = Schedule("consent-expiry", handlers.expire_due, settings.consent_expiry_interval_seconds, clock=clock)
    service = Service(settings, router, MIGRATIONS, schedules=[expiry], topics=topics)
    service.mount_api(build_api(handlers, settings, identity or OidcSettings()))
    return service


service = build_service(ConsentSettings())
app = service.app  # its AsyncAPI document (services.export); the process runs `service.main()`
