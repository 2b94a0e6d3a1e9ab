"""The proof ledger: an append-only hash chain of every consent change.

Each entry's hash covers its content and the previous entry's hash, so changing,
removing or reordering an entry breaks the chain from there on. Entries name a person
only by a keyed pseudonym, never by id (ADR 0005).
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from services.runtime.unit_of_work import Connection, Deferred, DeferredTable, write_rows

GENESIS = "0" * 64
# Written with the transaction's outbox rows where it defers them (group commit: `append_numbered`).
LEDGER = DeferredTable("ledger", (
    ("seq", "bigint"), ("subject_ref", "text"), ("purpose", "text"), ("change", "text"),
    ("policy_version", "integer"), ("policy_hash", "text"), ("method", "text"), ("changed_by", "text"),
    ("occurred_at", "timestamptz"), ("prev_hash", "text"), ("entry_hash", "text")))
# One chain: appends are serialised per schema; taken last in a transaction (after row locks).
# A ledger row as read: a database row, or a mapping in tests.
Row = Mapping[str, Any] | asyncpg.Record
# The chain's lock, as `ledger_locked_head()` (migration 003) takes it: the two must name the
# same key, or appends would no longer exclude each other. Taken alone only by tests.
_LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':ledger'))"
# The lock above, then the head read once it is granted, in one round trip (migration 003).
_LOCKED_HEAD = "SELECT seq, entry_hash FROM ledger_locked_head()"
_HELD = "consent.ledger.head"  # UnitOfWork.held: (seq, hash) of the head this transaction appended
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))  # what every entry's hash covers


@dataclass(frozen=True)
class Entry:
    subject_ref: str | None
    purpose: str | None
    change: str
    policy_version: int | None
    policy_hash: str | None
    method: str | None
    changed_by: str
    occurred_at: datetime

    def canonical(self) -> bytes:
        # Every field is a plain value: a shallow copy gives what `asdict` would, at a
        # quarter of its cost (its deep copy dominated verifying a long chain).
        content: dict[str, Any] = dict(vars(self))
        content["occurred_at"] = self.occurred_at.astimezone(UTC).isoformat()
        return _CANONICAL_JSON.encode(content).encode()


def chain_hash(prev_hash: str, entry: Entry) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + entry.canonical()).hexdigest()


async def append(conn: Connection, entries: Sequence[Entry], held: dict[str, Any] | None = None) -> list[str]:
    """Append `entries` in order, returning their hashes. Call inside the transaction."""
    return [entry_hash for _, entry_hash in await append_numbered(conn, entries, held)]


async def append_numbered(conn: Connection, entries: Sequence[Entry], held: dict[str, Any] | None = None,
                          deferred: Deferred | None = None) -> list[tuple[int, str]]:
    """Append `entries` in order, returning each one's (seq, hash). Call inside the transaction.
    Each entry's `seq` is the head's plus one, given under the chain's lock, which is held
    until commit: so seqs grow in the order transactions commit, without gaps, and a change
    committed later always has a higher one (ADR 0019: consumers order consent changes by it).

    `held` (the unit of work's, `UnitOfWork.held`): the transaction's memo of the head. The
    first append in a transaction takes the lock and reads the head (one round trip); as
    nobody else can append until this transaction ends, later appends in it (group commit's
    other commands) take the head from the memo. Whoever rolls back a savepoint after an
    append restores `held` as it was before the savepoint (group_commit.py, rejections.py).

    `deferred` (the unit of work's, `UnitOfWork.deferred`): the rows are written with the
    transaction's outbox rows at its end, one round trip for a group commit's batch instead of
    one per command (ADR 0031). Only where nothing reads the ledger later in the transaction:
    the seqs and hashes come from `held`, never from the table."""
    if not entries:
        return []
    memo = held.get(_HELD) if held is not None else None
    if memo is None:
        head = await conn.fetchrow(_LOCKED_HEAD)
        seq, prev = (head["seq"], head["entry_hash"]) if head and head["seq"] is not None else (0, GENESIS)
    else:
        seq, prev = memo
    rows = []
    for entry in entries:
        seq += 1
        entry_hash = chain_hash(prev, entry)
        rows.append((seq, *vars(entry).values(), prev, entry_hash))  # shallow: the fields are plain values
        prev = entry_hash
    await write_rows(conn, LEDGER, rows, deferred)
    if held is not None:
        held[_HELD] = (seq, prev)
    return [(row[0], row[-1]) for row in rows]


@dataclass(frozen=True)
class Verification:
    entries: int
    first_broken_seq: int | None
    head_hash: str | None

    @property
    def intact(self) -> bool:
        return self.first_broken_seq is None


def entry_of(row: Row) -> Entry:
    return Entry(**{name: row[name] for name in Entry.__dataclass_fields__})


class ChainCheck:
    """Fed rows in seq order; remembers the first that does not verify."""

    def __init__(self) -> None:
        self.entries = 0
        self.first_broken_seq: int | None = None
        self.head = GENESIS

    def feed(self, row: Row) -> None:
        self.entries += 1
        if self.first_broken_seq is not None:
            return
        if row["prev_hash"] != self.head or row["entry_hash"] != chain_hash(self.head, entry_of(row)):
            self.first_broken_seq = row["seq"]
        else:
            self.head = row["entry_hash"]

    def result(self) -> Verification:
        intact_head = self.head if self.entries and self.first_broken_seq is None else None
        return Verification(self.entries, self.first_broken_seq, intact_head)


async def verify(conn: Connection) -> Verification:
    """Recompute the whole chain from the first entry, streaming it. Call inside a transaction."""
    check = ChainCheck()
    async for row in conn.cursor("SELECT * FROM ledger ORDER BY seq", prefetch=10_000):
        check.feed(row)
    return check.result()
