"""Share requests: checked, given an unguessable tracked link, and — when scheduled —
handed to connectors at their time by a durable schedule (each share once)."""

import json
import uuid
from datetime import UTC, datetime

from faststream import Context
from faststream.kafka.annotations import KafkaMessage
from pydantic import TypeAdapter

from schemas.consent import Purpose
from schemas.directory import Network
from schemas.distribution import (CommandRejected, PostRequest, PublishRequested, RequestShare, Share,
                                  ShareCreated)
from services.distribution import links, share_store, store
from services.distribution.config import DistributionSettings, DistributionTopics
from services.distribution.domain import ItemView, check_share, post_of, share_text
from services.runtime.inbox import Inbox
from services.runtime.rejections import Rejected, rejecting
from services.runtime.routing import ServiceRouter
from services.runtime.unit_of_work import UnitOfWork


SHARE_REQUEST: TypeAdapter[RequestShare] = TypeAdapter(RequestShare)


def item_view(row) -> ItemView | None:
    if row is None:
        return None
    content = json.loads(row["content"])
    return ItemView(item_id=row["item_id"], status=row["status"], source_url=content["source_url"],
                    campaign_id=row["campaign_id"], disclosure=content.get("disclosure"),
                    share_texts=content.get("share_texts", {}), title=content["title"],
                    editable=content.get("editable", True))


def subscribe(router: ServiceRouter, settings: DistributionSettings, topics: DistributionTopics) -> None:
    async def request_share(uow: UnitOfWork, command: RequestShare) -> None:
        request, now = command.data, datetime.now(UTC)
        async with rejecting(uow, topics.events, CommandRejected, command, settings.service):
            if request.actor != request.advocate_id:
                raise Rejected("actor_not_subject", "only the advocate can share in their own name")
            item = item_view(await store.item(uow.conn, request.item_id))
            code = links.new_code()
            link = links.tracked_url(settings.public_base_url, code)
            text = share_text(item, request.network, request.text) if item else ""
            post = post_of(text, item, link) if item else ""
            # Both consent rows stay locked until commit: a withdrawal racing this request waits,
            # then finds (and cancels) what it created.
            receives = await store.may(uow.conn, request.advocate_id, Purpose.RECEIVE_CONTENT.value)
            may_schedule = await store.may(uow.conn, request.advocate_id, Purpose.SCHEDULED_SHARING.value)
            in_feed = receives and await store.in_feed(uow.conn, request.advocate_id, request.item_id)
            check_share(item, in_feed, request.network, post, request.scheduled_at, may_schedule, now)
            share_id = uuid.uuid4().hex
            try:
                target = links.redirect_target(item.source_url, request.network, item.campaign_id, item.item_id)
            except ValueError:  # curation checks this too; a host IDNA refuses has no ASCII form
                raise Rejected("invalid_url", "the item's URL cannot be written as a link") from None
            await share_store.create(uow.conn, share_id, code, request.advocate_id, item.item_id, item.campaign_id,
                                     request.network.value, post, target, request.scheduled_at, now)
            await uow.emit(topics.events, ShareCreated, share_id, Share(
                share_id=share_id, advocate_id=request.advocate_id, item_id=item.item_id,
                campaign_id=item.campaign_id, network=request.network, text=text, tracked_url=link,
                share_intent_url=links.share_intent_url(request.network, link, post),
                scheduled_at=request.scheduled_at, created_at=now))

    @router.subscriber(topics.commands, title="distribution:commands", batch=True, max_records=settings.event_batch_size)
    async def on_share_requests(values: list[bytes], message: KafkaMessage, inbox: Inbox = Context()) -> None:
        await inbox.handle_each_once(message.raw_message, SHARE_REQUEST, request_share)


def publisher(topics: DistributionTopics):
    """The schedule's job: due scheduled shares become publish requests for connectors."""

    async def request_due(uow: UnitOfWork, now: datetime) -> int:
        due = await share_store.claim_due(uow.conn, now)
        if due:
            await uow.emit_many(topics.events, PublishRequested, [
                (r["share_id"], PostRequest(share_id=r["share_id"], advocate_id=r["advocate_id"],
                                            network=Network(r["network"]), post=r["post"])) for r in due])
        return len(due)

    return request_due
