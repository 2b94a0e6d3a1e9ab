"""What each command does in the curation service.

Every command runs through the inbox (once per command id). A rule that refuses it
raises `Rejected`; `rejecting` rolls the command's changes back to a savepoint and emits
the rejection event instead, in the same transaction as the inbox row.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from faststream import Context
from faststream.kafka.annotations import KafkaMessage
from pydantic import TypeAdapter

from schemas import curation as c
from schemas.envelope import CloudEvent
from services.curation import domain, sources, store, validation
from services.curation.config import CurationSettings, CurationTopics
from services.curation.domain import Item
from services.runtime import directory
from services.runtime.inbox import Inbox
from services.runtime.rejections import Rejected, rejecting
from services.runtime.routing import ServiceRouter
from services.runtime.unit_of_work import UnitOfWork


class CommandHandlers:
    def __init__(self, settings: CurationSettings, topics: CurationTopics, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.events = topics.events
        self.clock = clock
        self.handlers: dict[type, Callable[[UnitOfWork, Any], Awaitable[None]]] = {
            c.DraftItem: self.draft, c.EditItem: self.edit, c.SubmitItem: self.submit,
            c.ApproveItem: self.approve, c.PublishItem: self.publish, c.RetractItem: self.retract,
            c.CreateCampaign: self.save_campaign, c.ChangeCampaign: self.save_campaign,
            c.RegisterSource: self.register_source,
            c.PauseSource: self.change_source, c.ResumeSource: self.change_source, c.RemoveSource: self.change_source,
        }

    async def execute(self, uow: UnitOfWork, command: Any) -> None:
        async with rejecting(uow, self.events, c.CommandRejected, command, self.settings.service):
            await self.handlers[type(command)](uow, command)

    async def draft(self, uow: UnitOfWork, command: c.DraftItem) -> None:
        if await store.load_item(uow.conn, command.subject) is not None:
            raise Rejected("item_exists", "an item with this id exists")
        await self._check_campaign(uow, command.data.content)
        item = domain.draft(command.subject, command.data.content, command.data.actor, self.settings.tracked_link)
        await store.save_item(uow.conn, item)
        await uow.emit(self.events, c.ItemDrafted, item.id, c.ItemDraft(item_id=item.id, actor=command.data.actor))

    async def edit(self, uow: UnitOfWork, command: c.EditItem) -> None:
        await self._check_campaign(uow, command.data.content)
        item = domain.edit(await self._item(uow, command), command.data.actor, command.data.content,
                           self.settings.tracked_link)
        await store.save_item(uow.conn, item)
        if item.status is c.ItemStatus.PUBLISHED:
            await uow.emit(self.events, c.ItemUpdated, item.id, _published(item))
        else:
            await self._step(uow, c.ItemEdited, item, command.data.actor)

    async def submit(self, uow: UnitOfWork, command: c.SubmitItem) -> None:
        item = domain.submit(await self._item(uow, command), command.data.actor, self.settings.disclosure_required)
        await store.save_item(uow.conn, item)
        await self._step(uow, c.ItemSubmitted, item, command.data.actor)

    async def approve(self, uow: UnitOfWork, command: c.ApproveItem) -> None:
        item = domain.approve(await self._item(uow, command), command.data.actor)
        await store.save_item(uow.conn, item)
        await self._step(uow, c.ItemApproved, item, command.data.actor)

    async def publish(self, uow: UnitOfWork, command: c.PublishItem) -> None:
        item = domain.release(await self._item(uow, command), self.clock())
        await store.save_item(uow.conn, item)
        if item.status is c.ItemStatus.SCHEDULED:
            assert item.content.publish_at is not None  # release schedules only what has a time ahead
            await uow.emit(self.events, c.ItemScheduled, item.id,
                           c.Schedule(item_id=item.id, publish_at=item.content.publish_at))
        else:
            await uow.emit(self.events, c.ItemPublished, item.id, _published(item))

    async def retract(self, uow: UnitOfWork, command: c.RetractItem) -> None:
        item = domain.retract(await self._item(uow, command), command.data.reason)
        await store.save_item(uow.conn, item)
        await uow.emit(self.events, c.ItemRetracted, item.id,
                       c.Withdrawal(item_id=item.id, actor=command.data.actor, reason=command.data.reason))

    async def save_campaign(self, uow: UnitOfWork, command: c.CreateCampaign | c.ChangeCampaign) -> None:
        d = command.data
        validation.check_campaign(d.name, d.goal, d.starts_on, d.ends_on)
        campaign = c.Campaign(campaign_id=command.subject, name=d.name, goal=d.goal, starts_on=d.starts_on,
                              ends_on=d.ends_on, topics=d.topics, owner=d.owner)
        create = isinstance(command, c.CreateCampaign)
        if not await store.save_campaign(uow.conn, campaign, create):
            raise Rejected("campaign_exists" if create else "unknown_campaign", "campaign id")
        await uow.emit(self.events, c.CampaignCreated if create else c.CampaignChanged, command.subject, campaign)

    async def register_source(self, uow: UnitOfWork, command: c.RegisterSource) -> None:
        d = command.data
        validation.check_url("url", d.url)
        source = c.Source(source_id=command.subject, url=d.url, language=d.language,
                          content_type=d.content_type, topics=d.topics)
        if not await store.add_source(uow.conn, source):
            raise Rejected("source_exists", "a source with this id exists")
        await uow.emit(self.events, c.SourceRegistered, command.subject, source)

    async def change_source(self, uow: UnitOfWork, command: c.PauseSource | c.ResumeSource | c.RemoveSource) -> None:
        status, event = sources.change(await store.source_status(uow.conn, command.subject), type(command))
        await store.set_source_status(uow.conn, command.subject, status)
        await uow.emit(self.events, event, command.subject,
                       c.SourceChange(source_id=command.subject, actor=command.data.actor, status=status))

    async def _item(self, uow: UnitOfWork, command: c.CurationCommand[Any]) -> Item:
        item = await store.load_item(uow.conn, command.subject)
        if item is None:
            raise Rejected("unknown_item", "no item with this id")
        return item

    async def _check_campaign(self, uow: UnitOfWork, content: c.ItemContent) -> None:
        if content.campaign_id is not None and not await store.campaign_exists(uow.conn, content.campaign_id):
            raise Rejected("unknown_campaign", "campaign_id names no campaign")

    async def _step(self, uow: UnitOfWork, event: type[CloudEvent[c.ItemStep]], item: Item, actor: str) -> None:
        await uow.emit(self.events, event, item.id, c.ItemStep(item_id=item.id, actor=actor, status=item.status))


def _published(item: Item) -> c.PublishedItem:
    assert item.published_at is not None
    return c.PublishedItem(item_id=item.id, content=item.content, published_at=item.published_at)


COMMAND: TypeAdapter[c.AnyCommand] = TypeAdapter(c.AnyCommand)


def build_router(settings: CurationSettings, topics: CurationTopics, clock: Callable[[], datetime]) -> ServiceRouter:
    router = ServiceRouter(settings.service)
    directory.follow(router, topics.directory, settings.event_batch_size)
    directory.forget_erased(router, topics.consent_events)  # erasure (GDPR Art. 17) reaches our `people` too
    handlers = CommandHandlers(settings, topics, clock)

    @router.subscriber(topics.commands, title=f"{settings.service}:commands", batch=True,
                       max_records=settings.event_batch_size)
    async def on_commands(values: list[bytes], message: KafkaMessage, inbox: Inbox = Context()) -> None:
        await inbox.handle_each_once(message.raw_message, COMMAND, handlers.execute)

    # Events leave through the outbox; this declares them for the AsyncAPI document.
    router.publisher(topics.events, title=f"{settings.service}:events", schema=c.AnyEvent)
    return router
