"""How a service's handlers are called: a table from message type to handler.

Every handler has the same shape, `async def handler(uow, message) -> None`: it changes the
service's tables through `uow.conn` and emits events through `uow.emit`, all in the unit
of work's one transaction. Who calls it — a Kafka subscriber through the inbox, an HTTP
endpoint, a test with a connection and no broker — decides where the transaction comes
from; the handler does not know, so both entry points share one code path.

- `dispatch(table)`: events. A message whose type the table lacks is one this service
  does not act on: it is handled by doing nothing, and the inbox keeps no id of it
  (ADR 0021: a service that reads a busy topic for a few of its types).
- `answering(table, ...)`: commands. Every command type has a handler; a command a rule
  refuses (`schemas.commands.Rejected`) leaves no change and is answered by the service's
  rejection event instead (see rejections.py). One that came on Kafka is first refused if
  its record key is not its subject (`key_not_subject`) or its `time` is outside the
  freshness window (`command_not_fresh`, ADR 0019).
- `signed_in_only(table, types, reason)`: the table Kafka gets. A command that acts for a
  person (give consent, share, approve …) is taken only through the front door, where the
  person signed in and the actor is who they are (ADR 0006); on Kafka, where the actor is
  a field anyone with write access fills in, it is refused with `reason`.
"""

from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.commands import CommandReason, RefusalReason, Rejected, Rejection
from schemas.envelope import CloudEvent
from services.runtime.rejections import rejecting
from services.runtime.unit_of_work import UnitOfWork

Handler = Callable[[UnitOfWork, Any], Awaitable[None]]
Table = Mapping[type[CloudEvent[Any]], Handler]


class dispatch:  # lower case: used as a function, `dispatch(table)`
    """One handler for a topic's events: the event's type picks the handler in `table`.
    `handles(event)` tells the inbox which events have any effect: the others (high-volume
    types on a topic a service reads for a few of its types) are not handled, so they keep
    no id there (ADR 0021)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def handles(self, event: Any) -> bool:
        return type(event) in self.table

    async def __call__(self, uow: UnitOfWork, event: CloudEvent[Any]) -> None:
        handler = self.table.get(type(event))
        if handler is not None:
            await handler(uow, event)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def answering(table: Table, events_topic: str, rejected: type[CloudEvent[Rejection]], service: str,
              max_age: timedelta = timedelta(hours=24), now: Callable[[], datetime] = _wall_clock) -> Handler:
    """One handler for a topic's commands: the command's type picks the handler in `table`
    (KeyError for a type it lacks: the decoder admits only the service's commands); a
    refusal is answered with a `rejected` event on `events_topic`. A command from Kafka
    (`uow.kafka_key` set) is refused unless keyed by its subject and no further than
    `max_age` from `now()` (the wall clock: when it is received, not the service's clock)."""

    async def handle(uow: UnitOfWork, command: CloudEvent[Any]) -> None:
        async with rejecting(uow, events_topic, rejected, command, service):
            if uow.kafka_key is not None:
                check_received_command(command, uow.kafka_key, max_age, now())
            await table[type(command)](uow, command)

    return handle


def check_received_command(command: CloudEvent[Any], key: bytes, max_age: timedelta, now: datetime) -> None:
    """A command as it came on Kafka: its record key must be its subject (partitioning, and
    so ordering, is by key: a command keyed otherwise is ordered with somebody else's), and
    its `time` given (without one, pydantic would date it on receipt: always fresh) and within
    `max_age` of now either way (a command kept back, in dead letters say, must not be applied
    after what followed it; one dated ahead must not outlive the window)."""
    if key != command.subject.encode():
        raise Rejected(CommandReason.KEY_NOT_SUBJECT, "the record's key must be the command's subject")
    if "time" not in command.model_fields_set:
        raise Rejected(CommandReason.COMMAND_NOT_FRESH, "a command on Kafka carries its `time`: send it again with one")
    if abs(now - command.time) > max_age:
        raise Rejected(CommandReason.COMMAND_NOT_FRESH, f"the command's time is more than "
                                                        f"{int(max_age.total_seconds())} s from now: send it again")


def signed_in_only(table: Table, types: Iterable[type[CloudEvent[Any]]], reason: RefusalReason) -> Table:
    """`table` with each of `types` refused with `reason` instead of handled."""

    async def refuse(uow: UnitOfWork, command: CloudEvent[Any]) -> None:
        raise Rejected(reason, "a command that acts for a person comes through the front door, signed in")

    return {**table, **dict.fromkeys(types, refuse)}
