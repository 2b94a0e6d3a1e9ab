"""The directory projection every service keeps: who is in the directory now, with
role, org unit, location, languages, interests, digest preference and networks.

`apply(uow, event)` is the handler of every directory event; a service subscribes it to
the directory topic as it is, or calls it from its own handler when joining or leaving
means more to it (consent revokes on leaving). People who leave are deleted: the
projection holds no one who is not in the directory. `forget` is for erasure.
"""

from schemas import directory
from services.runtime.unit_of_work import UnitOfWork

_UPSERT = """
INSERT INTO people (advocate_id, role, org_unit, location, languages, interests, digest, networks, as_of)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (advocate_id) DO UPDATE SET
    role = EXCLUDED.role, org_unit = EXCLUDED.org_unit, location = EXCLUDED.location,
    languages = EXCLUDED.languages, interests = EXCLUDED.interests, digest = EXCLUDED.digest,
    networks = EXCLUDED.networks, as_of = EXCLUDED.as_of
WHERE people.as_of <= EXCLUDED.as_of"""


async def apply(uow: UnitOfWork, event: directory.DirectoryEvent) -> None:
    """A join or change upserts the person (an older profile than the one held changes
    nothing); a departure deletes them."""
    if isinstance(event, directory.PersonLeft):
        await forget(uow, event.data.advocate_id)
        return
    p = event.data
    await uow.conn.execute(
        _UPSERT, p.advocate_id, p.role.value, p.org_unit, p.location, p.languages, p.interests,
        p.digest.value, [n.value for n in p.networks], event.time,
    )


async def forget(uow: UnitOfWork, advocate_id: str) -> None:
    await uow.conn.execute("DELETE FROM people WHERE advocate_id = $1", advocate_id)
