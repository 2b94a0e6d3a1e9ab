"""What each command, erasure and schedule pass does in the curation service.

Every handler is `(uow, message)`, listed in a table by message type (`commands`,
`consent_events`); app.py subscribes the tables, and api.py calls the same methods for the
signed-in editors and approvers. A rule that refuses a command raises `Rejected`, and
nothing of the command stays (see services/runtime/handling.py). Every accepted command
is recorded in the audit trail (audit.py) in its own transaction, with the door it came
through (`channel`: one instance of the handlers per door).
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from schemas import consent
from schemas import curation as c
from schemas.commands import Rejected
from schemas.curation import Reason
from schemas.envelope import CloudEvent
from services.curation import domain, poller, sources, store, validation
from services.curation.audit import Action, Channel, Entry
from services.curation.config import CurationSettings, CurationTopics
from services.curation.domain import Item
from services.runtime import directory
from services.runtime.handling import Table
from services.runtime.unit_of_work import UnitOfWork


class CurationHandlers:
    """Every handler of the curation service, with what they share: settings, topics, clock."""

    def __init__(self, settings: CurationSettings, topics: CurationTopics, clock: Callable[[], datetime],
                 channel: Channel = Channel.KAFKA) -> None:
        self.settings = settings
        self.events = topics.events
        self.clock = clock
        self.channel = channel
        self.commands: Table = {
            c.DraftItem: self.draft, c.EditItem: self.edit, c.SubmitItem: self.submit,
            c.ApproveItem: self.approve, c.SendBackItem: self.send_back,
            c.PublishItem: self.publish, c.RetractItem: self.retract,
            c.CreateCampaign: self.save_campaign, c.ChangeCampaign: self.save_campaign,
            c.RegisterSource: self.register_source,
            c.PauseSource: self.change_source, c.ResumeSource: self.change_source, c.RemoveSource: self.change_source,
        }
        # Erasure (GDPR Art. 17) reaches curation's copy of the directory too.
        self.consent_events: Table = {consent.AdvocateErased: self.forget}

    async def draft(self, uow: UnitOfWork, command: c.DraftItem) -> None:
        if await store.load_item(uow.conn, command.subject) is not None:
            raise Rejected(Reason.ITEM_EXISTS, "an item with this id exists")
        await self._check_campaign(uow, command.data.content)
        item = domain.draft(command.subject, command.data.content, command.data.actor, self.settings.tracked_link)
        await store.save_item(uow.conn, item)
        await uow.emit(self.events, c.ItemDrafted, item.id, c.DraftedItem(item_id=item.id, actor=command.data.actor))
        await self._audit(uow, command, Action.DRAFT)

    async def edit(self, uow: UnitOfWork, command: c.EditItem, seen_version: int | None = None) -> None:
        """Before publication the item goes back to draft (`item.edited`). After, reviewed
        fields wait as a revision (`item.revision.proposed`) and the rest applies at once
        (`item.updated`, also sent for an edit that proposes nothing, as before)."""
        await self._check_campaign(uow, command.data.content)
        before = await self._item(uow, command)
        item = domain.edit(before, command.data.actor, command.data.content, self.settings.tracked_link,
                           self.settings.disclosure_required, seen_version)
        await store.save_item(uow.conn, item)
        proposed = item.revision if item.revision != before.revision else None
        if before.status is not c.ItemStatus.PUBLISHED:
            await self._step(uow, c.ItemEdited, item, command.data.actor)
        else:
            if proposed is not None:
                await uow.emit(self.events, c.ItemRevisionProposed, item.id, c.RevisionStep(
                    item_id=item.id, actor=command.data.actor, fields=proposed.fields(item.content)))
            if item.content != before.content or proposed is None:
                await uow.emit(self.events, c.ItemUpdated, item.id, _published(item))
        await self._audit(uow, command, Action.EDIT if proposed is None else Action.REVISE)

    async def submit(self, uow: UnitOfWork, command: c.SubmitItem) -> None:
        item = domain.submit(await self._item(uow, command), command.data.actor, self.settings.disclosure_required)
        await store.save_item(uow.conn, item)
        await self._step(uow, c.ItemSubmitted, item, command.data.actor)
        await self._audit(uow, command, Action.SUBMIT)

    async def approve(self, uow: UnitOfWork, command: c.ApproveItem, seen_version: int | None = None) -> None:
        """The item in review, or a published item's pending revision (then `item.updated`).
        `seen_version`: the version the approver saw (the HTTP API always names one)."""
        before = await self._item(uow, command)
        item = domain.approve(before, command.data.actor, seen_version)
        await store.save_item(uow.conn, item)
        if before.revision is None:
            await self._step(uow, c.ItemApproved, item, command.data.actor)
        else:
            await uow.emit(self.events, c.ItemRevisionApproved, item.id, c.RevisionStep(
                item_id=item.id, actor=command.data.actor, fields=before.revision.fields(before.content)))
            await uow.emit(self.events, c.ItemUpdated, item.id, _published(item))
        await self._audit(uow, command, Action.APPROVE if before.revision is None else Action.APPROVE_REVISION)

    async def send_back(self, uow: UnitOfWork, command: c.SendBackItem) -> None:
        before = await self._item(uow, command)
        item = domain.send_back(before, command.data.actor, command.data.note)
        await store.save_item(uow.conn, item)
        revision = before.revision is not None
        await uow.emit(self.events, c.ItemSentBack, item.id, c.SentBackItem(
            item_id=item.id, actor=command.data.actor, status=item.status, note=command.data.note, revision=revision))
        await self._audit(uow, command, Action.SEND_BACK_REVISION if revision else Action.SEND_BACK)

    async def publish(self, uow: UnitOfWork, command: c.PublishItem) -> None:
        item = domain.release(await self._item(uow, command), self.clock())
        await store.save_item(uow.conn, item)
        scheduled = item.status is c.ItemStatus.SCHEDULED
        if scheduled:
            assert item.content.publish_at is not None  # release schedules only what has a time ahead
            await uow.emit(self.events, c.ItemScheduled, item.id,
                           c.PublicationSchedule(item_id=item.id, publish_at=item.content.publish_at))
        else:
            await uow.emit(self.events, c.ItemPublished, item.id, _published(item))
        await self._audit(uow, command, Action.SCHEDULE if scheduled else Action.PUBLISH)

    async def retract(self, uow: UnitOfWork, command: c.RetractItem) -> None:
        item = domain.retract(await self._item(uow, command), command.data.reason)
        await store.save_item(uow.conn, item)
        await uow.emit(self.events, c.ItemRetracted, item.id,
                       c.RetractedItem(item_id=item.id, actor=command.data.actor, reason=command.data.reason))
        await self._audit(uow, command, Action.RETRACT)

    async def save_campaign(self, uow: UnitOfWork, command: c.CreateCampaign | c.ChangeCampaign) -> None:
        d = command.data
        validation.check_campaign(d.name, d.goal, d.starts_on, d.ends_on)
        campaign = c.Campaign(campaign_id=command.subject, name=d.name, goal=d.goal, starts_on=d.starts_on,
                              ends_on=d.ends_on, topics=d.topics, owner=d.owner)
        create = isinstance(command, c.CreateCampaign)
        if not await store.save_campaign(uow.conn, campaign, create):
            raise Rejected(Reason.CAMPAIGN_EXISTS if create else Reason.UNKNOWN_CAMPAIGN, "campaign id")
        await uow.emit(self.events, c.CampaignCreated if create else c.CampaignChanged, command.subject, campaign)
        await self._audit(uow, command, Action.CREATE_CAMPAIGN if create else Action.CHANGE_CAMPAIGN)

    async def register_source(self, uow: UnitOfWork, command: c.RegisterSource) -> None:
        d = command.data
        validation.check_url("url", d.url)
        source = c.Source(source_id=command.subject, url=d.url, language=d.language,
                          content_type=d.content_type, topics=d.topics)
        if not await store.add_source(uow.conn, source):
            raise Rejected(Reason.SOURCE_EXISTS, "a source with this id exists")
        await uow.emit(self.events, c.SourceRegistered, command.subject, source)
        await self._audit(uow, command, Action.REGISTER_SOURCE)

    async def change_source(self, uow: UnitOfWork, command: c.PauseSource | c.ResumeSource | c.RemoveSource) -> None:
        status, event = sources.change(await store.source_status(uow.conn, command.subject), type(command))
        await store.set_source_status(uow.conn, command.subject, status)
        await uow.emit(self.events, event, command.subject,
                       c.SourceChange(source_id=command.subject, actor=command.data.actor, status=status))
        await self._audit(uow, command, _SOURCE_ACTIONS[type(command)])

    async def forget(self, uow: UnitOfWork, event: consent.AdvocateErased) -> None:
        await directory.forget(uow, event.data.advocate_id, event.data.erased_at)
        await store.forget_actor(uow.conn, event.data.advocate_id)

    async def publish_and_expire_due(self, uow: UnitOfWork, now: datetime) -> int:
        """Schedule job: publish what is due at `publish_at`, expire what is due at `expire_at`.
        Each pass claims what is due with `FOR UPDATE SKIP LOCKED` and emits in the same
        transaction: a second replica or a second pass finds nothing left, so nothing is
        published or expired twice."""
        published = await store.publish_due(uow.conn, now, _DUE_BATCH)
        await uow.emit_many(self.events, c.ItemPublished, [
            (item_id, c.PublishedItem(item_id=item_id, content=content, published_at=now))
            for item_id, content in published])
        expired = await store.expire_due(uow.conn, now, _DUE_BATCH)
        await uow.emit_many(self.events, c.ItemExpired, [
            (item_id, c.Expiry(item_id=item_id, expired_at=now)) for item_id in expired])
        return len(published) + len(expired)

    async def poll_due_source(self, uow: UnitOfWork, now: datetime) -> int:
        """Schedule job: fetch one due feed source and draft its new entries (poller.py)."""
        return await poller.poll_due_source(uow, self.settings, self.events, now)

    async def _item(self, uow: UnitOfWork, command: c.CurationCommand[Any]) -> Item:
        item = await store.load_item(uow.conn, command.subject)
        if item is None:
            raise Rejected(Reason.UNKNOWN_ITEM, "no item with this id")
        return item

    async def _check_campaign(self, uow: UnitOfWork, content: c.ItemContent) -> None:
        if content.campaign_id is not None and not await store.campaign_exists(uow.conn, content.campaign_id):
            raise Rejected(Reason.UNKNOWN_CAMPAIGN, "campaign_id names no campaign")

    async def _audit(self, uow: UnitOfWork, command: c.CurationCommand[Any], action: Action) -> None:
        await store.record_action(uow.conn, Entry(self.clock(), command.data.actor, action, command.subject,
                                                  self.channel, command.id), uow.deferred)

    async def _step(self, uow: UnitOfWork, event: type[CloudEvent[c.ItemStep]], item: Item, actor: str) -> None:
        await uow.emit(self.events, event, item.id, c.ItemStep(item_id=item.id, actor=actor, status=item.status))


_DUE_BATCH = 200
_SOURCE_ACTIONS = {c.PauseSource: Action.PAUSE_SOURCE, c.ResumeSource: Action.RESUME_SOURCE,
                   c.RemoveSource: Action.REMOVE_SOURCE}


def _published(item: Item) -> c.PublishedItem:
    assert item.published_at is not None
    return c.PublishedItem(item_id=item.id, content=item.content, published_at=item.published_at)

