"""A unit of work: one database transaction holding a change and the events it emits.

Handlers receive one, change their tables through `uow.conn`, and `emit` events; the
events land in the outbox in the same transaction, so both happen or neither does.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar
from uuid import uuid4

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from schemas.envelope import CloudEvent

E = TypeVar("E", bound=CloudEvent[Any])

# What handlers and stores get: a connection of their own, or one from the service's pool.
# (asyncpg's classes are generic only in its type stubs.)
if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:
    Connection = asyncpg.Connection | PoolConnectionProxy

_INSERT = "INSERT INTO outbox (event_id, topic, key, type, payload) VALUES ($1, $2, $3, $4, $5)"
_COLUMNS = ["event_id", "topic", "key", "type", "payload"]


# Above this many rows COPY wins; below, its extra round trips cost more than an INSERT.
_COPY_FROM = 50


async def insert_rows(conn: Connection, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Set-based insert: COPY for many rows (a fan-out), one pipelined INSERT for a few."""
    if len(rows) > _COPY_FROM:
        await conn.copy_records_to_table(table, columns=columns, records=rows)
    elif rows:
        marks = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        await conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


@dataclass
class UnitOfWork:
    conn: Connection
    source: str
    cause: CloudEvent[Any] | None = None
    # The Kafka record key of the message in hand, when a Kafka subscriber called (None for
    # the HTTP API, a schedule or a test): commands check it against their subject.
    kafka_key: bytes | None = None
    emitted: list[CloudEvent[Any]] = field(default_factory=list)
    # What the transaction holds under a lock taken until its end, and read under it (e.g.
    # the proof ledger's head: ledger.py), so a later unit of work in the same transaction
    # need not take and read it again. Units of work sharing a transaction (group commit)
    # share this mapping; whoever rolls back a savepoint restores it as it was before the
    # savepoint (the rollback released the lock and undid what was read since).
    held: dict[str, Any] = field(default_factory=dict)
    # Whether a refused command is undone alone, in a savepoint (rejections.rejecting). False in
    # a batch of Kafka commands run first without them (Inbox.handle_each_once): a refusal then
    # undoes the whole transaction and the batch runs again, each command in a savepoint.
    savepoints: bool = True

    async def emit(self, topic: str, event_type: type[E], subject: str, data: Any) -> E:
        """Build an event of `event_type` and write it to the outbox."""
        event = self._build(event_type, subject, data)
        await self.conn.execute(_INSERT, event.id, topic, event.subject, event.type, event.to_bytes())
        self.emitted.append(event)
        return event

    async def emit_many(self, topic: str, event_type: type[E], items: Iterable[tuple[str, Any]],
                        attributes: Sequence[Mapping[str, Any]] | None = None) -> list[E]:
        """Set-based `emit` for fan-out: one COPY for all (subject, data) pairs; `attributes`,
        one mapping per pair, sets envelope attributes the event type declares."""
        pairs = list(items)
        extra: Sequence[Mapping[str, Any]] = attributes if attributes is not None else [{}] * len(pairs)
        events = [self._build(event_type, subject, data, **more)
                  for (subject, data), more in zip(pairs, extra, strict=True)]
        await insert_rows(self.conn, "outbox", _COLUMNS,
                          [(e.id, topic, e.subject, e.type, e.to_bytes()) for e in events])
        self.emitted.extend(events)
        return events

    async def emit_together(self, *batches: tuple[str, type[CloudEvent[Any]], Sequence[tuple[str, Any]],
                                                  Sequence[Mapping[str, Any]]]) -> None:
        """`emit_many` of several (topic, event type, (subject, data) pairs, attributes)
        batches at once: one insert (one round trip) for all, in the order given."""
        events = [(topic, self._build(event_type, subject, data, **more))
                  for topic, event_type, pairs, attributes in batches
                  for (subject, data), more in zip(pairs, attributes, strict=True)]
        await insert_rows(self.conn, "outbox", _COLUMNS,
                          [(e.id, topic, e.subject, e.type, e.to_bytes()) for topic, e in events])
        self.emitted.extend(e for _, e in events)

    async def emit_tombstones(self, topic: str, keys: Iterable[str]) -> None:
        """Null values for `keys` on a compacted topic, so compaction deletes those keys."""
        await self.conn.executemany(_INSERT, [(str(uuid4()), topic, key, "tombstone", None) for key in keys])

    def _build(self, event_type: type[E], subject: str, data: Any, **attributes: Any) -> E:
        trace: dict[str, str] = {}
        if self.cause is not None:
            # The whole chain shares the first event's id as correlation id.
            trace = {"correlationid": self.cause.correlationid or self.cause.id, "causationid": self.cause.id}
        return event_type(source=self.source, subject=subject, data=data, **trace, **attributes)
