"""Answering a refused command: a rejection event with a machine-readable reason.

Domain code raises `Rejected(reason, detail)`; the handler catches it and calls
`reject`, which emits the service's rejection event (through the outbox, in the
same transaction as the inbox row) and counts it.
"""

from typing import Any

from schemas.commands import Rejection
from schemas.envelope import CloudEvent
from services.runtime import metrics
from services.runtime.unit_of_work import UnitOfWork


class Rejected(Exception):
    """A command refused by a rule; `reason` is a stable snake_case code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


async def reject(
    uow: UnitOfWork, topic: str, event_type: type[CloudEvent[Rejection]],
    command: CloudEvent[Any], rejection: Rejected, service: str,
) -> None:
    await uow.emit(topic, event_type, command.subject, Rejection(
        command_id=command.id, command_type=command.type, reason=rejection.reason, detail=rejection.detail,
    ))
    metrics.REJECTED.labels(service, rejection.reason).inc()
