"""A minimal service built on the runtime, to test the runtime itself.

It consumes `Probed` events; the effect is a row in `effects` (no unique constraint,
so a duplicated effect would show) and a `ProbeHandled` event emitted via the outbox.
"""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from schemas.envelope import CloudEvent
from services.runtime.handling import Handler
from services.runtime.migrate import RUNTIME_MIGRATIONS as RUNTIME
from services.runtime.routing import ServiceRouter
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings
from services.runtime.unit_of_work import UnitOfWork

MIGRATIONS = Path(__file__).with_name("probe_migrations")
RUNTIME_MIGRATIONS = RUNTIME


class Count(BaseModel):
    n: int


class Probed(CloudEvent[Count]):
    type: Literal["test.probed.v1"] = "test.probed.v1"


class ProbeHandled(CloudEvent[Count]):
    type: Literal["test.probe.handled.v1"] = "test.probe.handled.v1"


def recorder(output_topic: str, bug_on: set[int]) -> Handler:
    """The probe's effect; values of n in `bug_on` raise, as a bug would, until removed from the set."""

    async def record(uow: UnitOfWork, event: Probed) -> None:
        if event.data.n in bug_on:
            raise RuntimeError("a bug in the handler")
        await uow.conn.execute("INSERT INTO effects (event_id, n) VALUES ($1, $2)", event.id, event.data.n)
        await uow.emit(output_topic, ProbeHandled, event.subject, event.data)

    return record


def build_probe(settings: ServiceSettings, input_topic: str, output_topic: str,
                bug_on: set[int] | None = None, max_records: int = 100, defer_writes: bool = False) -> Service:
    """`Probed` events, each applied once, up to `max_records` a transaction (1: one
    transaction per message), as every service's subscribers take their events; with
    `defer_writes`, their events written to the outbox once a batch."""
    router = ServiceRouter(settings.service)
    record = recorder(output_topic, bug_on if bug_on is not None else set())
    router.consume("probed", input_topic, Probed, record, max_records=max_records, defer_writes=defer_writes)
    return Service(settings, router, MIGRATIONS)


def build_batch_probe(settings: ServiceSettings, input_topic: str) -> Service:
    """The batch variant, as metrics counts: up to 100 records a batch, one transaction and
    one INSERT each."""
    router = ServiceRouter(settings.service)

    async def record_all(uow: UnitOfWork, events: list[Probed]) -> None:
        await uow.conn.execute(
            "INSERT INTO effects (event_id, n) SELECT * FROM unnest($1::text[], $2::int[])",
            [e.id for e in events], [e.data.n for e in events])
        await uow.conn.execute("INSERT INTO batches (size) VALUES ($1)", len(events))

    router.consume_batches("probed", input_topic, Probed, record_all, max_records=100)
    return Service(settings, router, MIGRATIONS)
