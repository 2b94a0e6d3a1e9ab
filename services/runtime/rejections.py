"""Answering a refused command: a rejection event with a machine-readable reason.

Domain code raises `schemas.commands.Rejected(reason, detail)`; a handler runs its command inside
`rejecting(...)`, which undoes the command's partial changes (a savepoint) and emits the
service's rejection event instead, through the outbox, in the same transaction as the
inbox row, and counts it.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from schemas.commands import Rejected, Rejection
from schemas.envelope import CloudEvent
from services.runtime import metrics
from services.runtime.unit_of_work import UnitOfWork


async def reject(
    uow: UnitOfWork, topic: str, event_type: type[CloudEvent[Rejection]],
    command: CloudEvent[Any], rejection: Rejected, service: str,
) -> None:
    await uow.emit(topic, event_type, command.subject, Rejection(
        command_id=command.id, command_type=command.type, reason=rejection.reason, detail=rejection.detail,
    ))
    metrics.REJECTED.labels(service, rejection.reason).inc()


@asynccontextmanager
async def rejecting(
    uow: UnitOfWork, topic: str, event_type: type[CloudEvent[Rejection]], command: CloudEvent[Any], service: str,
) -> AsyncIterator[None]:
    """Run a command's body; if a rule refuses it, nothing of it stays and the sender is told why."""
    held = dict(uow.held)
    try:
        async with uow.conn.transaction():  # a savepoint: a refused command leaves no change behind
            yield
    except Rejected as rejection:
        uow.held.clear()  # as before the savepoint (UnitOfWork.held)
        uow.held.update(held)
        await reject(uow, topic, event_type, command, rejection, service)
