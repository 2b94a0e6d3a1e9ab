"""What distribution does with what it hears: consent, curated items, connectors' reports.

Share requests are in sharing.py, the redirect in redirect.py.
"""

import json
from datetime import UTC, datetime

from faststream import Context
from faststream.kafka.annotations import KafkaMessage
from pydantic import TypeAdapter

from schemas import consent, curation, engagement
from schemas.consent import Purpose
from schemas.directory import Digest, DirectoryEvent, PersonJoined
from schemas.distribution import (CancellationReason, Distribution, DistributionEvent, ItemDistributed,
                                  RetractionRequested, ShareCancelled, ShareEnded)
from services.distribution import share_store, store
from services.distribution.config import DistributionSettings, DistributionTopics
from services.distribution.domain import next_digest
from services.runtime import directory
from services.runtime.inbox import Inbox
from services.runtime.routing import ServiceRouter
from services.runtime.unit_of_work import UnitOfWork

CONSENT_EVENT: TypeAdapter[consent.ConsentEvent] = TypeAdapter(consent.ConsentEvent)
_STOPS_SCHEDULED = {Purpose.RECEIVE_CONTENT, Purpose.SCHEDULED_SHARING}


def subscribe(router: ServiceRouter, settings: DistributionSettings, topics: DistributionTopics) -> None:
    async def follow_directory(uow: UnitOfWork, event: DirectoryEvent) -> None:
        """The projection; and someone new to it who already said yes (their consent came
        first, on another topic) gets what is active and reaches them."""
        new = isinstance(event, PersonJoined) and not await store.in_directory(uow.conn, event.data.advocate_id)
        await directory.apply(uow, event)
        if new:  # the backfill reaches them only if they hold receive_content
            await store.backfill(uow.conn, event.data.advocate_id, *digests())

    directory.follow(router, topics.directory, settings.event_batch_size, follow_directory)

    async def end_shares(uow: UnitOfWork, ended: list, reason: CancellationReason, event_type: type) -> None:
        await uow.emit_many(topics.events, event_type, [
            (r["share_id"], ShareEnded(share_id=r["share_id"], item_id=r["item_id"], network=r["network"],
                                       reason=reason)) for r in ended])

    async def apply_consent(uow: UnitOfWork, event: consent.ConsentEvent) -> None:
        if isinstance(event, consent.AdvocateErased):
            cancelled = await share_store.cancel_scheduled(uow.conn, advocate_id=event.data.advocate_id)
            await end_shares(uow, cancelled, CancellationReason.ADVOCATE_ERASED, ShareCancelled)
            await store.erase(uow.conn, event.data.advocate_id)
        elif isinstance(event.data, consent.ConsentRecord):
            record = event.data
            if not await store.set_consent(uow.conn, record.advocate_id, record.purpose.value, record.valid,
                                           record.changed_at):
                return  # older than what we hold
            if record.purpose is Purpose.RECEIVE_CONTENT and not record.valid:
                await store.stop_delivery(uow.conn, record.advocate_id)
            elif record.purpose is Purpose.RECEIVE_CONTENT:  # a yes: what is active now reaches them too
                await store.backfill(uow.conn, record.advocate_id, *digests())
            if record.purpose in _STOPS_SCHEDULED and not record.valid:
                cancelled = await share_store.cancel_scheduled(uow.conn, advocate_id=record.advocate_id)
                await end_shares(uow, cancelled, CancellationReason.CONSENT_WITHDRAWN, ShareCancelled)

    async def apply_curation(uow: UnitOfWork, event: curation.AnyEvent) -> None:
        if isinstance(event, curation.ItemPublished | curation.ItemUpdated):
            item = event.data
            content = item.content.model_dump(mode="json")
            active = await store.save_item(uow.conn, item.item_id, item.content.campaign_id,
                                           json.dumps(content), event.time)
            if active and isinstance(event, curation.ItemPublished):
                await distribute(uow, item.item_id, content)
        elif isinstance(event, curation.ItemRetracted | curation.ItemExpired):
            retracted = isinstance(event, curation.ItemRetracted)
            reason = CancellationReason.ITEM_RETRACTED if retracted else CancellationReason.ITEM_EXPIRED
            await store.end_item(uow.conn, event.data.item_id, "retracted" if retracted else "expired")
            cancelled = await share_store.cancel_scheduled(uow.conn, item_id=event.data.item_id)
            await end_shares(uow, cancelled, reason, ShareCancelled)
            await end_shares(uow, await share_store.posted(uow.conn, event.data.item_id), reason, RetractionRequested)

    def digests() -> tuple[datetime, datetime, datetime]:
        """Now, and when the next daily and weekly digests go out."""
        now = datetime.now(UTC)
        return now, next_digest(Digest.DAILY, now, settings.digest_hour_utc), next_digest(
            Digest.WEEKLY, now, settings.digest_hour_utc)

    async def distribute(uow: UnitOfWork, item_id: str, content: dict) -> None:
        now, daily_at, weekly_at = digests()
        size = await store.fan_out(uow.conn, item_id, content, now, daily_at, weekly_at)
        await uow.emit(topics.events, ItemDistributed, item_id,
                       Distribution(item_id=item_id, audience_size=size, distributed_at=now))

    async def apply_outcome(uow: UnitOfWork, event: engagement.EngagementEvent) -> None:
        """Connectors' reports on posting; their other observations are for metrics."""
        if isinstance(event, engagement.SharePublished | engagement.ShareFailed):
            status = "published" if isinstance(event, engagement.SharePublished) else "failed"
            await share_store.record_outcome(uow.conn, event.data.share_id, status)

    # Batched: a withdrawal must not wait behind a queue of other people's consent changes.
    @router.subscriber(topics.consent_events, title="distribution:consent", batch=True,
                       max_records=settings.event_batch_size)
    async def on_consent_events(values: list[bytes], message: KafkaMessage, inbox: Inbox = Context()) -> None:
        await inbox.handle_each_once(message.raw_message, CONSENT_EVENT, apply_consent)

    @router.subscriber(topics.curation_events, title="distribution:curation")
    async def on_curation_event(event: curation.AnyEvent, inbox: Inbox = Context()) -> None:
        await inbox.handle_once(event, apply_curation)

    @router.subscriber(topics.engagement, title="distribution:engagement")
    async def on_engagement(event: engagement.EngagementEvent, inbox: Inbox = Context()) -> None:
        await inbox.handle_once(event, apply_outcome)

    # Events leave through the outbox; declared here so the AsyncAPI document shows them.
    router.publisher(topics.events, title="distribution:events", schema=DistributionEvent)
