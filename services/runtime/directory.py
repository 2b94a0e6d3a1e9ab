"""The directory projection every service keeps: who is in the directory now, with
role, org unit, location, languages, interests, digest preference and networks.

`apply(uow, event)` is the handler of every directory event; a service subscribes it to
the directory topic as it is, or calls it from its own handler when joining or leaving
means more to it (consent revokes on leaving). People who leave are deleted: the
projection holds no one who is not in the directory; when they left is kept (`departures`),
so that a profile announced before that, arriving late, does not bring them back (ADR
0035). `forget` is for erasure: the person and their departure go, and the erasure is
remembered the same way, by a salted hash of the id instead of the id.

A person's directory events and their erasure are applied one transaction at a time (`hold`,
a lock per person): two at once could each miss the other's row.
"""

from datetime import UTC, datetime

from schemas import directory
from schemas.envelope import AHEAD_TOLERATED
from services.runtime.unit_of_work import UnitOfWork

# An erased person's reference: a SHA-256 of the id with the schema's own random salt
# (migration 007), so that the row remembering the erasure does not hold the id (ADR 0013).
_ERASED_REF = "encode(sha256(convert_to((SELECT salt FROM erased_people_salt) || ':' || {id}, 'UTF8')), 'hex')"

# One person's directory events and their erasure, one transaction at a time: the erasure
# comes from consent's topic, not the directory's, so the partition's one consumer does not
# order it. Its own statement, before the one that reads: READ COMMITTED takes a statement's
# snapshot when it begins, so the next one sees what the lock's last holder committed (a
# join inserting someone new is not seen by an erasure's DELETE that began before its
# commit). Two int4 keys: the audience lock (distribution) is a single bigint key.
def hold_sql(advocate_id: str) -> str:
    """SQL taking the person's lock (`hold`), for a statement that takes it before it locks
    their row (distribution's `reach_changing`); `advocate_id`: the parameter."""
    return f"pg_advisory_xact_lock(hashtext(current_schema() || ':person'), hashtext({advocate_id}))"


_HOLD = f"SELECT {hold_sql('$1')}"


def ended_after(advocate_id: str, as_of: str, stated: str | None = None) -> str:
    """SQL: whether the person (the parameter `advocate_id`) left, or was erased, at or after
    `as_of` (a parameter): then a profile announced at `as_of` does not apply (the departure
    or erasure wins a tie). `stated`: the parameter holding the sender's own `time`, NULL if
    it sent none; an undated profile of someone erased is refused (it cannot be told from a
    stale one, and an erasure comes first). Distribution's `reach_changing` reads the same rule."""
    ref = _ERASED_REF.format(id=f"{advocate_id}::text")
    erased_by = f"coalesce({stated}, '-infinity')" if stated else as_of
    return (f"(EXISTS (SELECT 1 FROM departures WHERE advocate_id = {advocate_id} AND as_of >= {as_of})"
            f" OR EXISTS (SELECT 1 FROM erased_people WHERE ref = {ref} AND as_of >= {erased_by}))")


# A profile applies unless the one held is newer, or the person left or was erased after it
# was announced (`departures`, `erased_people`; migrations 006 and 007); a later one ends
# the departure. The erasure's row stays: it refuses only what is older than it.
_UPSERT = f"""
WITH returned AS (DELETE FROM departures WHERE advocate_id = $1 AND as_of < $9)
INSERT INTO people (advocate_id, role, org_unit, location, languages, interests, digest, networks, as_of)
SELECT $1::text, $2::text, $3::text, $4::text, $5::text[], $6::text[], $7::text, $8::text[], $9::timestamptz
WHERE NOT {ended_after("$1", "$9", stated="$10::timestamptz")}
ON CONFLICT (advocate_id) DO UPDATE SET
    role = EXCLUDED.role, org_unit = EXCLUDED.org_unit, location = EXCLUDED.location,
    languages = EXCLUDED.languages, interests = EXCLUDED.interests, digest = EXCLUDED.digest,
    networks = EXCLUDED.networks, as_of = EXCLUDED.as_of
WHERE people.as_of <= EXCLUDED.as_of"""
# Leaving always removes the person (whatever the time of the profile held: leaving stops
# everything). What is remembered is the later of its time and the removed profile's: a
# profile older than the one it removed must not come back either. A departure without a
# `time` of its sender's ($2 NULL: the decoding time would block a rejoin on a replay)
# remembers the removed profile's only. For someone erased (HR's `person.left` after the
# erasure, the topic read again) it moves their erasure's time instead: no id is written.
_DEPART = f"""
WITH gone AS (DELETE FROM people WHERE advocate_id = $1 RETURNING as_of),
left_at AS (SELECT greatest($2::timestamptz, (SELECT max(as_of) FROM gone)) AS as_of),
erased AS (UPDATE erased_people e SET as_of = greatest(e.as_of, left_at.as_of) FROM left_at
           WHERE e.ref = {_ERASED_REF.format(id="$1::text")} AND left_at.as_of IS NOT NULL RETURNING 1)
INSERT INTO departures (advocate_id, as_of) SELECT $1, as_of FROM left_at
WHERE as_of IS NOT NULL AND NOT EXISTS (SELECT 1 FROM erased)
ON CONFLICT (advocate_id) DO UPDATE SET as_of = greatest(departures.as_of, EXCLUDED.as_of)"""


async def hold(uow: UnitOfWork, advocate_id: str) -> None:
    """Wait until no other transaction applies the person's directory events or erasure;
    held until this one ends. `apply` and `forget` take it; a service that locks the person's
    row in a statement before `apply` (distribution's `reach_changing`) takes it first, in
    that statement (`hold_sql`), and passes `held=True`."""
    await uow.conn.execute(_HOLD, advocate_id)


async def apply(uow: UnitOfWork, event: directory.DirectoryEvent, *, held: bool = False) -> None:
    """A join or change upserts the person (a profile older than the one held, or than their
    departure or erasure, changes nothing); a departure deletes them and is remembered by its
    time, at most AHEAD_TOLERATED ahead of this clock (ADR 0038). `held`: the caller took
    `hold` for the person in this transaction."""
    if not held:
        await hold(uow, event.data.advocate_id)
    if isinstance(event, directory.PersonLeft):
        stated = _stated(event)
        if stated is not None:  # remembered at most a day ahead: a broken clock keeps no rejoin out for long
            stated = min(stated, datetime.now(UTC) + AHEAD_TOLERATED)
        await uow.conn.execute(_DEPART, event.data.advocate_id, stated)
        return
    p = event.data
    await uow.conn.execute(
        _UPSERT, p.advocate_id, p.role.value, p.org_unit, p.location, p.languages, p.interests,
        p.digest.value, [n.value for n in p.networks], event.time, _stated(event),
    )


def _stated(event: directory.DirectoryEvent) -> datetime | None:
    """The sender's own `time`, or None if it sent none (then `time` is the decoding time)."""
    return event.time if "time" in event.model_fields_set else None


# The erasure covers the later of its own time and the departure it removed (a profile
# older than that must not come back). The profile it removed may be dated after it: a
# rejoin this service read before the erasure (which comes one hop later, through consent);
# sent again, that profile applies, as everywhere else.
_FORGET = f"""
WITH gone AS (DELETE FROM people WHERE advocate_id = $1),
departed AS (DELETE FROM departures WHERE advocate_id = $1 RETURNING as_of)
INSERT INTO erased_people (ref, as_of)
SELECT {_ERASED_REF.format(id="$1::text")}, greatest($2::timestamptz, (SELECT max(as_of) FROM departed))
ON CONFLICT (ref) DO UPDATE SET as_of = greatest(erased_people.as_of, EXCLUDED.as_of)"""


async def forget(uow: UnitOfWork, advocate_id: str, erased_at: datetime) -> None:
    """Erasure (`advocate.erased`, at `erased_at`): the person and their departure go, no row
    keeps their id (ADR 0013), and a profile announced before the erasure (or before the
    departure it removed), arriving after it, brings nobody back, nor does one without a
    `time`; one announced after it (a rejoin) applies. Each service calls this first in its
    erasure handler (the person before their consents: the order a join and a give lock in),
    in the same transaction as its deletes."""
    await hold(uow, advocate_id)
    await uow.conn.execute(_FORGET, advocate_id, erased_at)
