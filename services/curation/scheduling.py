"""Publishing at `publish_at` and expiring at `expire_at`, driven by the items table.

Each pass claims what is due with `FOR UPDATE SKIP LOCKED`, changes its status and
emits the events in one transaction: a restart loses nothing, and a second replica or
a second pass finds nothing left to do, so nothing is published or expired twice.
"""

from datetime import datetime

from schemas.curation import Expiry, ItemExpired, ItemPublished, PublishedItem
from services.curation import store
from services.runtime.scheduler import Job
from services.runtime.unit_of_work import UnitOfWork

BATCH = 200


def publish_and_expire(events_topic: str) -> Job:
    async def job(uow: UnitOfWork, now: datetime) -> int:
        published = await store.publish_due(uow.conn, now, BATCH)
        await uow.emit_many(events_topic, ItemPublished, [
            (item_id, PublishedItem(item_id=item_id, content=content, published_at=now))
            for item_id, content in published
        ])
        expired = await store.expire_due(uow.conn, now, BATCH)
        await uow.emit_many(events_topic, ItemExpired, [
            (item_id, Expiry(item_id=item_id, expired_at=now)) for item_id in expired
        ])
        return len(published) + len(expired)

    return job
