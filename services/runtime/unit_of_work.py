"""A unit of work: one database transaction holding a change and the events it emits.

Handlers receive one, change their tables through `uow.conn`, and `emit` events; the
events land in the outbox in the same transaction, so both happen or neither does.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
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

# A transaction's deferred writes in one round trip: its outbox rows (in the order emitted:
# seq follows the SELECT's rows, which follow the arrays), the rows of its deferred tables
# (`DeferredTable`: one data-modifying CTE each, $8 on) and its Idempotency-Key claims,
# answering the claims made (a key missing from the answer was claimed before). An event
# written already is not written twice: a write retried after a commit whose answer was lost
# (batched_outbox.py) finds its rows there. Had the relay published and deleted them in the
# meantime (the retry comes within seconds), they go again under new publication numbers,
# so a consumer may count them twice: at-least-once, as before the retry a lost answer was
# an error for a click written all the same.
_FLUSH = """WITH written AS (INSERT INTO outbox (event_id, topic, key, type, payload)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[])
    ON CONFLICT (event_id) DO NOTHING){tables}
INSERT INTO inbox (consumer, event_id) SELECT * FROM unnest($6::text[], $7::text[])
ON CONFLICT DO NOTHING RETURNING consumer, event_id"""
_FLUSH_FIRST_TABLE_PARAMETER = 8


async def insert_rows(conn: Connection, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Set-based insert: COPY for many rows (a fan-out), one pipelined INSERT for a few."""
    if len(rows) > _COPY_FROM:
        await conn.copy_records_to_table(table, columns=columns, records=rows)
    elif rows:
        marks = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        if len(rows) == 1:  # asyncpg's executemany costs a row alone more Python than execute
            await conn.execute(insert, *rows[0])
        else:
            await conn.executemany(insert, rows)


async def write_rows(conn: Connection, table: "DeferredTable", rows: list[tuple[Any, ...]],
                     deferred: "Deferred | None") -> None:
    """`rows` of `table`: left for the transaction's flush if it defers its writes (`deferred`,
    the unit of work's), else inserted now (`insert_rows`)."""
    if deferred is not None:
        deferred.insert(table, rows)
    else:
        await insert_rows(conn, table.name, table.column_names, rows)


@dataclass(frozen=True)
class KeyClaim:
    """An HTTP request's Idempotency-Key, claimed as two inbox ids under `consumer`: the key
    (`key`), and the key with what was asked (`request`: method, path and body). A key
    claimed before refuses the command with `repeated` if the request was claimed with it
    too (the same request again: IETF httpapi-idempotency-key-header's duplicate), with
    `reused` if not (another request under a key already spent: that draft's 422)."""

    consumer: str
    key: str
    request: str
    repeated: Exception
    reused: Exception

    def ids(self) -> list[str]:
        return [self.key, self.request]

    def refusal(self, claimed: set[str]) -> Exception | None:
        """None if `claimed` (the ids this claim's statement inserted) holds the key."""
        if self.key in claimed:
            return None
        return self.reused if self.request in claimed else self.repeated


@dataclass(frozen=True)
class DeferredTable:
    """A table whose rows a transaction may leave for its end (`Deferred.insert`), written by
    `flush` in its one statement: the table's name and its columns with their Postgres types
    (each sent as one array, `unnest`ed)."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (column, type), e.g. ("seq", "bigint")

    @property
    def column_names(self) -> list[str]:
        return [column for column, _ in self.columns]

    def statement(self, first: int) -> str:
        """Its CTE in `_FLUSH`, its arrays the parameters from `$first` on."""
        names = ", ".join(self.column_names)
        arrays = ", ".join(f"${first + n}::{kind}[]" for n, (_, kind) in enumerate(self.columns))
        return f",\n{self.name}_written AS (INSERT INTO {self.name} ({names}) SELECT * FROM unnest({arrays}))"


@dataclass
class Deferred:
    """One unit of work's writes left for the end of its transaction (HTTP commands, ADR 0031;
    a Kafka batch that defers them, ADR 0047): its outbox rows, its claims of an HTTP
    request's Idempotency-Key, and rows of tables its handlers chose to defer (`insert`:
    consent's proof ledger, distribution's new shares, curation's audit trail).
    Nothing in the transaction reads them back, so writing them last changes nothing but the
    number of round trips: one `flush` for all of a transaction's units of work."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)  # outbox: event_id, topic, key, type, payload
    claims: list[KeyClaim] = field(default_factory=list)
    inserts: dict[DeferredTable, list[tuple[Any, ...]]] = field(default_factory=dict)

    def claim(self, claim: KeyClaim) -> None:
        """Claim an Idempotency-Key at flush (`KeyClaim`)."""
        self.claims.append(claim)

    def insert(self, table: DeferredTable, rows: Iterable[tuple[Any, ...]]) -> None:
        """Rows of `table`, one value per column in its order, written at flush. Only for a
        table nothing reads in the same transaction after this (the rows are not there yet)."""
        self.inserts.setdefault(table, []).extend(rows)

    def mark(self) -> tuple[int, int, dict[DeferredTable, int]]:
        """Where the writes stand, to `undo` back to (a savepoint rolled back)."""
        return len(self.rows), len(self.claims), {table: len(rows) for table, rows in self.inserts.items()}

    def undo(self, mark: tuple[int, int, dict[DeferredTable, int]]) -> None:
        rows, claims, inserts = mark
        del self.rows[rows:], self.claims[claims:]
        for table, written in self.inserts.items():
            del written[inserts.get(table, 0):]


async def flush(conn: Connection, deferred: Sequence[Deferred]) -> list[tuple[int, Exception]]:
    """Write `deferred` in one statement, in their order. Returns (index, refusal) for each
    whose key was claimed before (in an earlier transaction, or earlier in this list): their
    rows are written all the same, so the caller must undo the transaction (or savepoint)."""
    rows = [row for d in deferred for row in d.rows]
    claims = [(n, claim) for n, d in enumerate(deferred) for claim in d.claims]
    tables: dict[DeferredTable, list[tuple[Any, ...]]] = {}
    for d in deferred:
        for table, table_rows in d.inserts.items():
            tables.setdefault(table, []).extend(table_rows)
    tables = {table: tables[table] for table in sorted(tables, key=lambda t: t.name) if tables[table]}
    if not rows and not claims and not tables:
        return []
    ids = [(claim.consumer, id_) for _, claim in claims for id_ in claim.ids()]
    arrays = [*_columns(rows, 5), [consumer for consumer, _ in ids], [id_ for _, id_ in ids]]
    for table, table_rows in tables.items():
        arrays.extend(_columns(table_rows, len(table.columns)))
    claimed = {(r["consumer"], r["event_id"]) for r in await conn.fetch(_flush_statement(tuple(tables)), *arrays)}
    refused: list[tuple[int, Exception]] = []
    for n, claim in claims:
        mine = {id_ for id_ in claim.ids() if (claim.consumer, id_) in claimed}
        claimed -= {(claim.consumer, id_) for id_ in mine}  # the first in the list has them; a second is refused
        if (refusal := claim.refusal(mine)) is not None:
            refused.append((n, refusal))
    return refused


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[Sequence[Any]]:
    """`rows` as `width` column arrays, for `unnest`."""
    return list(zip(*rows, strict=True)) if rows else [()] * width


@lru_cache(maxsize=16)
def _flush_statement(tables: tuple[DeferredTable, ...]) -> str:
    first, ctes = _FLUSH_FIRST_TABLE_PARAMETER, []
    for table in tables:
        ctes.append(table.statement(first))
        first += len(table.columns)
    return _FLUSH.format(tables="".join(ctes))


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
    # Outbox rows, Idempotency-Key claims and rows of deferred tables (`Deferred`) left
    # for the end of the transaction, which `flush`es them, if given (an HTTP command's
    # transaction, alone or in a group commit; a Kafka batch whose subscriber defers its
    # writes, ADR 0047); None (other Kafka handlers, schedules): written as they come.
    deferred: Deferred | None = None

    async def emit(self, topic: str, event_type: type[E], subject: str, data: Any) -> E:
        """Build an event of `event_type` and write it to the outbox."""
        event = self._build(event_type, subject, data)
        if self.deferred is not None:
            self.deferred.rows.append((event.id, topic, event.subject, event.type, event.to_bytes()))
        else:
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
        await self._write([(e.id, topic, e.subject, e.type, e.to_bytes()) for e in events])
        self.emitted.extend(events)
        return events

    async def emit_together(self, *batches: tuple[str, type[CloudEvent[Any]], Sequence[tuple[str, Any]],
                                                  Sequence[Mapping[str, Any]]]) -> None:
        """`emit_many` of several (topic, event type, (subject, data) pairs, attributes)
        batches at once: one insert (one round trip) for all, in the order given."""
        events = [(topic, self._build(event_type, subject, data, **more))
                  for topic, event_type, pairs, attributes in batches
                  for (subject, data), more in zip(pairs, attributes, strict=True)]
        await self._write([(e.id, topic, e.subject, e.type, e.to_bytes()) for topic, e in events])
        self.emitted.extend(e for _, e in events)

    async def emit_tombstones(self, topic: str, keys: Iterable[str]) -> None:
        """Null values for `keys` on a compacted topic, so compaction deletes those keys."""
        await self._write([(str(uuid4()), topic, key, "tombstone", None) for key in keys])

    async def _write(self, rows: list[tuple[Any, ...]]) -> None:
        """Outbox rows: deferred if the transaction defers them, else inserted now."""
        if self.deferred is not None:
            self.deferred.rows.extend(rows)
        else:
            await insert_rows(self.conn, "outbox", _COLUMNS, rows)

    def _build(self, event_type: type[E], subject: str, data: Any, **attributes: Any) -> E:
        trace: dict[str, str] = {}
        if self.cause is not None:
            # The whole chain shares the first event's id as correlation id.
            trace = {"correlationid": self.cause.correlationid or self.cause.id, "causationid": self.cause.id}
        return event_type(source=self.source, subject=subject, data=data, **trace, **attributes)
