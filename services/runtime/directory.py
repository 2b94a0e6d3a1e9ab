"""The directory projection every service keeps: who is in the directory now, with
role, org unit, location, languages, interests, digest preference and networks.

A service follows the directory with `follow(router)`, or calls `apply` from its own
handler when leaving or joining means more to it (consent revokes on leaving).
People who leave are deleted: the projection holds no one who is not in the directory.
"""

from collections.abc import Awaitable, Callable

from faststream import Context
from faststream.kafka.annotations import KafkaMessage
from pydantic import TypeAdapter

from schemas import consent, directory
from services.runtime.inbox import Inbox
from services.runtime.routing import ServiceRouter
from services.runtime.unit_of_work import UnitOfWork

DIRECTORY_EVENT: TypeAdapter[directory.DirectoryEvent] = TypeAdapter(directory.DirectoryEvent)

_UPSERT = """
INSERT INTO people (advocate_id, role, org_unit, location, languages, interests, digest, networks, as_of)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (advocate_id) DO UPDATE SET
    role = EXCLUDED.role, org_unit = EXCLUDED.org_unit, location = EXCLUDED.location,
    languages = EXCLUDED.languages, interests = EXCLUDED.interests, digest = EXCLUDED.digest,
    networks = EXCLUDED.networks, as_of = EXCLUDED.as_of
WHERE people.as_of <= EXCLUDED.as_of"""


async def apply(uow: UnitOfWork, event: directory.DirectoryEvent) -> None:
    if isinstance(event, directory.PersonLeft):
        await forget(uow, event.data.advocate_id)
        return
    p = event.data
    await uow.conn.execute(
        _UPSERT, p.advocate_id, p.role.value, p.org_unit, p.location, p.languages, p.interests,
        p.digest.value, [n.value for n in p.networks], event.time,
    )


def follow(router: ServiceRouter, topic: str = directory.TOPIC, batch_size: int = 100,
           effect: Callable[[UnitOfWork, directory.DirectoryEvent], Awaitable[None]] = apply) -> None:
    """Subscribe `router`'s service to the directory topic, keeping `people` up to date
    (`effect`: `apply`, or a service's own that calls it), up to `batch_size` events a
    transaction."""

    @router.subscriber(topic, title=f"{router.service}:directory", batch=True, max_records=batch_size)
    async def on_directory_events(values: list[bytes], message: KafkaMessage, inbox: Inbox = Context()) -> None:
        await inbox.handle_each_once(message.raw_message, DIRECTORY_EVENT, effect)


async def forget(uow: UnitOfWork, advocate_id: str) -> None:
    await uow.conn.execute("DELETE FROM people WHERE advocate_id = $1", advocate_id)


def forget_erased(router: ServiceRouter, topic: str = consent.EVENTS_TOPIC) -> None:
    """Subscribe `router`'s service to consent's events for one purpose: when an advocate is
    erased, their row in `people` goes. (A service with more to purge handles
    `AdvocateErased` in its own consent subscriber instead.)"""

    async def purge(uow: UnitOfWork, event: consent.ConsentEvent) -> None:
        if isinstance(event, consent.AdvocateErased):
            await forget(uow, event.data.advocate_id)

    @router.subscriber(topic, title=f"{router.service}:erasures")
    async def on_consent_event(event: consent.ConsentEvent, inbox: Inbox = Context()) -> None:
        await inbox.handle_once(event, purge)
