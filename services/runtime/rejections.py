"""Answering a refused command: a rejection event with a machine-readable reason.

Domain code raises `schemas.commands.Rejected(reason, detail)`; a handler runs its command inside
`rejecting(...)`, which undoes the command's partial changes (a savepoint) and emits the
service's rejection event instead, through the outbox, in the same transaction as the
inbox row, and counts it. In a batch run without savepoints (`UnitOfWork.savepoints` False:
SAVEPOINT and RELEASE were two of a curation command's six statements, and refusals are
rare), a refusal raises `RefusedWithoutSavepoint` instead: the transaction is undone, and the
batch runs again with them (Inbox.handle_each_once), as group commit does over HTTP (ADR 0024).
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


class RefusedWithoutSavepoint(Exception):
    """A command was refused in a transaction without savepoints: its partial changes cannot be
    undone alone, so the whole transaction must be, and its batch run again with savepoints."""


@asynccontextmanager
async def rejecting(
    uow: UnitOfWork, topic: str, event_type: type[CloudEvent[Rejection]], command: CloudEvent[Any], service: str,
) -> AsyncIterator[None]:
    """Run a command's body; if a rule refuses it, nothing of it stays and the sender is told why
    (without savepoints: RefusedWithoutSavepoint, and the caller undoes the transaction)."""
    if not uow.savepoints:
        try:
            yield
        except Rejected as rejection:
            raise RefusedWithoutSavepoint(rejection.reason) from rejection
        return
    held = dict(uow.held)
    mark = uow.deferred.mark() if uow.deferred is not None else None
    try:
        async with uow.conn.transaction():  # a savepoint: a refused command leaves no change behind
            yield
    except Rejected as rejection:
        uow.held.clear()  # as before the savepoint (UnitOfWork.held)
        uow.held.update(held)
        if uow.deferred is not None and mark is not None:  # its deferred writes are undone with it
            uow.deferred.undo(mark)
        await reject(uow, topic, event_type, command, rejection, service)
