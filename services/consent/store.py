"""The consent service's SQL. Transitions are set-based: one statement per change of many.
Reads for one person (their consents, their receipt, their erasure) go by primary key or
index only: a person's consent page and receipt must stay fast however many people there are."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from schemas.consent import ChangedBy, CollectionMethod, Purpose, Status
from services.consent.domain import STANDING, VALID, Change, Policy
from services.runtime.unit_of_work import Connection

_RECORD = ("advocate_id, purpose, status, policy_version, policy_hash, collection_method, "
           "changed_by, changed_at, expires_at")

_SAVE = f"""INSERT INTO consents ({_RECORD}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (advocate_id, purpose) DO UPDATE SET
    status = EXCLUDED.status, policy_version = EXCLUDED.policy_version, policy_hash = EXCLUDED.policy_hash,
    collection_method = EXCLUDED.collection_method, changed_by = EXCLUDED.changed_by,
    changed_at = EXCLUDED.changed_at, expires_at = EXCLUDED.expires_at"""

# Moves the consents `where` selects, if in one of the statuses $4, to status $1; the method
# of collection belonged to the earlier choice (the ledger keeps it with that entry). A
# withdrawal's is in consent migration 005 (`withdrawal_standings`): keep the two alike.
_TRANSITION = """UPDATE consents SET status = $1, changed_by = $2, changed_at = $3, expires_at = NULL,
    collection_method = NULL
WHERE {where} AND status = ANY($4::text[]) RETURNING """ + _RECORD

_EXPIRE = """UPDATE consents c SET status = 'expired', changed_by = 'controller',
    changed_at = due.expires_at, expires_at = NULL, collection_method = NULL
FROM (SELECT advocate_id, purpose, expires_at FROM consents
      WHERE status = ANY($3::text[]) AND expires_at <= $1
      ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
WHERE c.advocate_id = due.advocate_id AND c.purpose = due.purpose
RETURNING """ + ", ".join(f"c.{column}" for column in _RECORD.split(", "))


def _values(statuses: frozenset[Status]) -> list[str]:
    return sorted(s.value for s in statuses)


def change_of(row: asyncpg.Record) -> Change:
    method = row["collection_method"]
    return Change(
        advocate_id=row["advocate_id"], purpose=Purpose(row["purpose"]), status=Status(row["status"]),
        changed_by=ChangedBy(row["changed_by"]), changed_at=row["changed_at"],
        policy_version=row["policy_version"], policy_hash=row["policy_hash"],
        collection_method=CollectionMethod(method) if method else None, expires_at=row["expires_at"],
    )


def _changes(rows: Sequence[asyncpg.Record]) -> list[Change]:
    """In a stable order, so the ledger's order does not depend on the planner."""
    return sorted(map(change_of, rows), key=lambda c: (c.advocate_id, c.purpose))


async def current_policy(conn: Connection, purpose: Purpose, *, for_update: bool = False) -> Policy | None:
    """Locks the purpose: shared to give consent, exclusive to publish a version."""
    lock = "UPDATE" if for_update else "SHARE"
    row = await conn.fetchrow(
        f"SELECT current_version, current_hash FROM purposes WHERE purpose = $1 FOR {lock}", purpose.value)
    return Policy(row["current_version"], row["current_hash"]) if row and row["current_version"] else None


_CHOICE_STATE = "SELECT known, current_version, current_hash, status FROM choice_state($1, $2)"


async def choice_state(conn: Connection, advocate_id: str, purpose: Purpose) -> tuple[bool, Policy | None,
                                                                                    Status | None]:
    """What a give or refusal needs, in one round trip (migration 004), each under its lock
    until the transaction ends, taken in this order:

    - whether the person is in the directory, their row locked (NO KEY UPDATE), for two
      reasons. A plain read would let a concurrent PersonLeft delete them and revoke their
      consents before this choice commits, leaving a valid consent for someone who left; the
      lock makes the leave's DELETE wait, and its revocation then sees (and revokes) this
      consent. And one person's choices, which may arrive at once over HTTP (a double click,
      a retry), are made one at a time: a second give sees the first and renews it, instead
      of both finding no record and both being a first "given". Only profile updates of the
      same person wait as well, for as long as a choice takes. Nothing else is read for a
      person who is not in the directory (False, None, None);
    - the purpose's current policy, its row locked FOR SHARE (as `current_policy`), before
    - the person's status on it, their record locked FOR UPDATE: purposes, then consents,
      the order publishing takes them in, so the two cannot deadlock. No record of the
      person appears meanwhile (their directory row is held)."""
    row = await conn.fetchrow(_CHOICE_STATE, advocate_id, purpose.value)
    assert row is not None, "a function with OUT parameters answers one row"
    policy = Policy(row["current_version"], row["current_hash"]) if row["current_version"] else None
    return row["known"], policy, Status(row["status"]) if row["status"] else None


async def in_directory(conn: Connection, advocate_id: str) -> bool:
    """Whether consent knows the person (their `person.joined` read): a plain read, no lock."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM people WHERE advocate_id = $1)", advocate_id))


async def add_policy(conn: Connection, purpose: Purpose, version: int, text: str, content_hash: str,
                     requires_renewal: bool, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO policies (purpose, version, text, content_hash, requires_renewal, published_at) "
        "VALUES ($1, $2, $3, $4, $5, $6)", purpose.value, version, text, content_hash, requires_renewal, at)
    await conn.execute("UPDATE purposes SET current_version = $2, current_hash = $3 WHERE purpose = $1",
                       purpose.value, version, content_hash)


async def save(conn: Connection, c: Change) -> None:
    await conn.execute(_SAVE, c.advocate_id, c.purpose.value, c.status.value, c.policy_version, c.policy_hash,
                       c.collection_method.value if c.collection_method else None, c.changed_by.value,
                       c.changed_at, c.expires_at)


async def revoke_all(conn: Connection, advocate_id: str, at: datetime) -> list[Change]:
    rows = await conn.fetch(_TRANSITION.format(where="advocate_id = $5"), Status.REVOKED.value,
                            ChangedBy.CONTROLLER.value, at, _values(STANDING), advocate_id)
    return _changes(rows)


async def request_renewal(conn: Connection, purpose: Purpose, at: datetime) -> list[Change]:
    rows = await conn.fetch(_TRANSITION.format(where="purpose = $5"), Status.RENEWAL_REQUESTED.value,
                            ChangedBy.CONTROLLER.value, at, _values(VALID), purpose.value)
    return _changes(rows)


async def expire_due(conn: Connection, now: datetime, limit: int) -> list[Change]:
    return _changes(await conn.fetch(_EXPIRE, now, limit, _values(VALID)))


async def erase(conn: Connection, advocate_id: str) -> None:
    """The advocate's consents (the pseudonymous ledger stays). The caller has removed them
    from the directory projection first (`directory.forget`): a give locks the person, then
    their consent, and locks taken in one order cannot deadlock."""
    await conn.execute("DELETE FROM consents WHERE advocate_id = $1", advocate_id)


async def consents_of(conn: Connection, advocate_id: str) -> list[Change]:
    return _changes(await conn.fetch(f"SELECT {_RECORD} FROM consents WHERE advocate_id = $1", advocate_id))


async def ledger_of(conn: Connection, subject_ref: str) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM ledger WHERE subject_ref = $1 ORDER BY seq", subject_ref)


# --- where a person stands: the HTTP API's reads, and a withdrawal answered with them ------

@dataclass(frozen=True)
class PublishedPolicy:
    """One version of a purpose's policy, as published."""

    purpose: Purpose
    version: int
    text: str
    content_hash: str
    requires_renewal: bool
    published_at: datetime


@dataclass(frozen=True)
class Standing:
    """Where one person stands on one purpose: their record (None: never answered), the
    policy version that record names, with its text, and the purpose's current version."""

    purpose: Purpose
    record: Change | None
    seen: PublishedPolicy | None
    current: PublishedPolicy | None


_POLICY = ("version", "text", "content_hash", "requires_renewal", "published_at")


def _policy_of(row: asyncpg.Record, alias: str = "") -> PublishedPolicy | None:
    prefix = f"{alias}_" if alias else ""
    if row[f"{prefix}version"] is None:
        return None
    return PublishedPolicy(Purpose(row["purpose"]), *(row[f"{prefix}{column}"] for column in _POLICY))


_ORDER = {purpose: n for n, purpose in enumerate(Purpose)}

# Where a person stands: a row per purpose (migration 005: the `standing` type, its functions).
_STANDINGS = "SELECT * FROM standings($1)"
# Each purpose's standing once withdrawn, marked `withdrawn` where this withdrawal changed it.
_WITHDRAW = "SELECT w.withdrawn, (w.standing).* FROM withdrawal_standings($1, $2, $3, $4, $5, $6) w"


async def standings_of(conn: Connection, advocate_id: str) -> list[Standing]:
    """Every purpose, in the order `Purpose` lists them, with where the person stands."""
    return _standings(await conn.fetch(_STANDINGS, advocate_id))


def _standings(rows: Sequence[asyncpg.Record]) -> list[Standing]:
    standings = [Standing(Purpose(row["purpose"]), change_of(row) if row["status"] else None,
                          _policy_of(row, "seen"), _policy_of(row, "cur")) for row in rows]
    return sorted(standings, key=lambda s: _ORDER[s.purpose])


async def withdraw(conn: Connection, advocate_id: str, purposes: Sequence[Purpose],
                   at: datetime) -> tuple[list[Change], list[Standing]]:
    """Withdraws what stands of the person's `purposes`: the changes made, and where the
    person stands afterwards on each of `purposes` (as `standings_of`), in one round trip."""
    rows = await conn.fetch(_WITHDRAW, advocate_id, [p.value for p in purposes], _values(STANDING),
                            Status.WITHDRAWN.value, ChangedBy.SUBJECT.value, at)
    assert len(rows) == len(purposes), "every purpose is a row of `purposes`"
    return _changes([row for row in rows if row["withdrawn"]]), _standings(rows)


async def current_policies(conn: Connection) -> list[PublishedPolicy]:
    """The current version of every purpose that has one, in the order `Purpose` lists them."""
    rows = await conn.fetch(f"SELECT p.purpose, {', '.join(f'v.{column}' for column in _POLICY)} FROM purposes p "
                            "JOIN policies v ON v.purpose = p.purpose AND v.version = p.current_version")
    return sorted(filter(None, map(_policy_of, rows)), key=lambda p: _ORDER[p.purpose])


async def policy(conn: Connection, purpose: Purpose, version: int) -> PublishedPolicy | None:
    row = await conn.fetchrow(f"SELECT purpose, {', '.join(_POLICY)} FROM policies WHERE purpose = $1 AND version = $2",
                              purpose.value, version)
    return _policy_of(row) if row else None


# --- erasures ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ErasureRecord:
    """An erasure beside its ledger entry (`entry_hash`); people only by pseudonym."""

    entry_hash: str
    subject_ref: str
    requested_by_ref: str
    changed_by: ChangedBy
    reason: str | None
    erased_at: datetime


async def record_erasure(conn: Connection, e: ErasureRecord) -> None:
    await conn.execute("INSERT INTO erasures (entry_hash, subject_ref, requested_by_ref, changed_by, reason, erased_at)"
                       " VALUES ($1, $2, $3, $4, $5, $6)", e.entry_hash, e.subject_ref, e.requested_by_ref,
                       e.changed_by.value, e.reason, e.erased_at)


async def latest_erasure(conn: Connection, subject_ref: str) -> ErasureRecord | None:
    """The person's last erasure, by the ledger's order."""
    row = await conn.fetchrow(
        "SELECT e.entry_hash, e.subject_ref, e.requested_by_ref, e.changed_by, e.reason, e.erased_at FROM erasures e "
        "JOIN ledger l ON l.entry_hash = e.entry_hash WHERE e.subject_ref = $1 ORDER BY l.seq DESC LIMIT 1",
        subject_ref)
    if row is None:
        return None
    return ErasureRecord(row["entry_hash"], row["subject_ref"], row["requested_by_ref"], ChangedBy(row["changed_by"]),
                         row["reason"], row["erased_at"])
