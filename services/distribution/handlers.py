"""What distribution does with what it hears, and with what falls due.

Every handler is `(uow, message)`, listed in a table by message type (`commands`,
`directory`, `consent_events`, `curation_events`, `engagement`); app.py subscribes the
tables. Schedule jobs are `(uow, now) -> how many handled`. Rules come from `domain`, SQL
from `store` (projections, feeds, notifications) and `share_store` (shares); the redirect
is redirect.py. The commands act for a person: Kafka's subscriber refuses them (app.py) and
the HTTP API (api.py) calls `share` and `cancel_share` in a transaction of its own.
"""

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from schemas import consent, curation, engagement
from schemas import directory as d
from schemas.commands import Rejected
from schemas.consent import Purpose
from schemas.directory import Digest
from schemas.distribution import (
    Audience,
    AudienceGrowth,
    CancellationReason,
    CancelShare,
    ItemAudienceGrew,
    ItemDistributed,
    Notification,
    NotificationRequested,
    PostRequest,
    PublishCancelled,
    PublishRequested,
    Reason,
    RequestShare,
    RetractionRequested,
    Share,
    ShareCancelled,
    ShareCreated,
    ShareEnded,
)
from schemas.networks import tracked_link
from services.distribution import domain, links, share_store, store
from services.distribution.config import DistributionSettings, DistributionTopics
from services.distribution.domain import ItemView
from services.distribution.share_store import AdvocateShare, EndedShare
from services.runtime import directory
from services.runtime.handling import Table
from services.runtime.unit_of_work import UnitOfWork

# Without either of these, a scheduled post is not posted.
_STOPS_SCHEDULED = {Purpose.RECEIVE_CONTENT, Purpose.SCHEDULED_SHARING}
_NOTIFICATIONS_PER_PASS = 1000
_GROWTH_PER_PASS = 1000


class DistributionHandlers:
    """Every handler of the distribution service, with what they share: settings, topics, clock."""

    def __init__(self, settings: DistributionSettings, topics: DistributionTopics,
                 clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.topics = topics
        self.clock = clock
        # Both act for a person: app.py refuses them on Kafka; the HTTP API (api.py) calls them.
        self.commands: Table = {RequestShare: self.request_share, CancelShare: self.cancel_share}
        self.directory: Table = {d.PersonJoined: self.join, d.PersonChanged: self.join, d.PersonLeft: self.leave}
        self.consent_events: Table = {consent.AdvocateErased: self.erase,
                                      **dict.fromkeys(consent.RECORD_EVENTS, self.apply_consent)}
        self.curation_events: Table = {
            curation.ItemPublished: self.publish, curation.ItemUpdated: self.update,
            curation.ItemRetracted: self.end_item, curation.ItemExpired: self.end_item,
        }
        # Connectors' reports on posting; their other observations are for metrics.
        self.engagement: Table = {engagement.SharePublished: self.record_outcome,
                                  engagement.ShareFailed: self.record_outcome}

    # --- the directory and consent ---------------------------------------------------------

    async def join(self, uow: UnitOfWork, event: d.PersonJoined | d.PersonChanged) -> None:
        """Into the projection; someone new to it who already said yes (their consent came
        first, on another topic), or whose change (role, org unit, location, languages,
        interests) may bring them into the reach of more items, gets what is active and
        reaches them now."""
        # They hold the audience lock (ADR 0033): a fan-out committing now, unseen, waits
        # for this join or this for it. Their own yes, if neither sees the other, is left
        # unplaced for `place_yeses`; if the backfill sees it, the backfill places it.
        changing = await store.reach_changing(uow.conn, event.data, event.time)  # holds the person too
        await directory.apply(uow, event, held=True)
        if changing:  # the backfill reaches them only if they hold receive_content
            await store.backfill(uow.conn, event.data.advocate_id, *self._digests(),
                                 self.settings.notification_daily_cap)

    async def leave(self, uow: UnitOfWork, event: d.PersonLeft) -> None:
        """Out of the projection; a yes of theirs waiting for their join is forgotten (ADR 0033)."""
        await directory.apply(uow, event)
        await store.forget_unplaced(uow.conn, event.data.advocate_id)

    async def apply_consent(self, uow: UnitOfWork, event: consent.RecordEvent) -> None:
        """Any consent record: kept if later in consent's order (its `consentsequence`, ADR
        0019) than what is held; a `receive_content` no stops delivery, a yes brings what is
        active now; a no to receiving or scheduling cancels the posts a connector is not to
        make: scheduled ones, and those already handed to it (`share.cancelled` tells it)."""
        record = event.data
        if record.purpose is Purpose.RECEIVE_CONTENT and record.valid:
            await self._receive(uow, record.advocate_id, event.consentsequence)
            return
        shrinking = record.purpose in _STOPS_SCHEDULED and not record.valid
        # A no to receiving takes the audience lock, shared, with its row: a fan-out committing
        # meanwhile is seen by its delete, or sees it (ADR 0039). Either no: before it locks any
        # share, as an item's end locks its shares after the lock (exclusive); a batch locking
        # shares first, then waiting for the lock, deadlocked with an end waiting for those shares.
        if shrinking:
            applied = await store.withdraw_consent(uow.conn, record.advocate_id, record.purpose.value,
                                                   event.consentsequence)
        else:
            applied = await store.set_consent(uow.conn, record.advocate_id, record.purpose.value, record.valid,
                                              event.consentsequence)
        if not applied:
            return  # not after what we hold
        if shrinking:  # a no to receiving stops delivery too, in the same statement
            cancelled = await share_store.cancel_unposted(
                uow.conn, record.advocate_id, CancellationReason.CONSENT_WITHDRAWN.value,
                stopping_delivery=record.purpose is Purpose.RECEIVE_CONTENT)
            await self._end_shares(uow, cancelled, CancellationReason.CONSENT_WITHDRAWN, ShareCancelled)

    async def _receive(self, uow: UnitOfWork, advocate_id: str, sequence: int | None) -> None:
        """A `receive_content` yes, kept if later than what is held, brings what is active now.
        One that grows the audience (no yes held before) is seen by no join or fan-out
        committing now, nor are they by its backfill: it takes the audience lock, shared,
        before the backfill (ADR 0033)."""
        if not await store.give_consent(uow.conn, advocate_id, Purpose.RECEIVE_CONTENT.value, sequence):
            # Not after what we hold, or a yes again: every fan-out since their last yes saw
            # it (and reached them), every item before it was backfilled then (ADR 0033).
            return
        await store.backfill(uow.conn, advocate_id, *self._digests(), self.settings.notification_daily_cap,
                             after_consent=True)

    async def erase(self, uow: UnitOfWork, event: consent.AdvocateErased) -> None:
        """Every row about the person goes; scheduled and in-flight posts are cancelled (the
        connector is told). In the order a join locks in (the person, then their consents,
        then their feed), so that a backfill or share request holding their consent, or a
        fan-out holding the audience lock, finishes first and what it wrote is then seen and
        deleted."""
        advocate_id = event.data.advocate_id
        await directory.forget(uow, advocate_id, event.data.erased_at)
        await store.share_audience(uow.conn)  # as a withdrawal: a fan-out committing now is seen (ADR 0039)
        await store.erase_consents(uow.conn, advocate_id)
        cancelled = await share_store.cancel_unposted(uow.conn, advocate_id, CancellationReason.ADVOCATE_ERASED.value)
        await self._end_shares(uow, cancelled, CancellationReason.ADVOCATE_ERASED, ShareCancelled)
        await store.erase(uow.conn, advocate_id)

    # --- curated items ---------------------------------------------------------------------

    async def publish(self, uow: UnitOfWork, event: curation.ItemPublished) -> None:
        """Kept, and fanned out to its audience in one statement, unless it was retracted or
        expired before (a replayed publication reaches nobody)."""
        saved, content = await self._save(uow, event)
        if saved is not None:
            await self._distribute(uow, event.data.item_id, content, saved.new)

    async def update(self, uow: UnitOfWork, event: curation.ItemUpdated) -> None:
        """Kept; an audience, language or topics that changed are fanned out again: whoever
        they reach now and did not gets it (their count added to its reach, told partners by
        `tell_audience_growth`). Whoever it reached keeps it. An update of an item never
        published here (its publication lost, or replayed later) is distributed as one."""
        saved, content = await self._save(uow, event)
        if saved is None or not saved.reach_changed:
            return
        if saved.new:
            await self._distribute(uow, event.data.item_id, content, new=True)
            return
        added = await self._fan_out(uow, event.data.item_id, content, False, self._digests())
        await store.distributed(uow.conn, event.data.item_id, added, 0)

    async def _save(self, uow: UnitOfWork, event: curation.ItemPublished | curation.ItemUpdated,
                    ) -> tuple[store.SavedItem | None, dict[str, Any]]:
        item = event.data
        content = item.content.model_dump(mode="json")
        saved = await store.save_item(uow.conn, item.item_id, item.content.campaign_id, content, event.time,
                                      self._post_lengths(item.item_id, content))
        return saved, content

    async def _distribute(self, uow: UnitOfWork, item_id: str, content: dict[str, Any], new: bool) -> None:
        """Fanned out; its reach kept and told partners (`item.distributed`, k-anonymous)."""
        digests = self._digests()
        size = await self._fan_out(uow, item_id, content, new, digests)
        size_told, below_k = domain.audience_told(size, self.settings.k_anonymity)
        await store.distributed(uow.conn, item_id, size, size_told or 0)
        await uow.emit(self.topics.items, ItemDistributed, item_id, Audience(
            item_id=item_id, audience_size=size_told, audience_below_k=below_k,
            k=self.settings.k_anonymity, distributed_at=digests[0]))

    async def _fan_out(self, uow: UnitOfWork, item_id: str, content: dict[str, Any], new: bool,
                       digests: tuple[datetime, datetime, datetime]) -> int:
        # A yes or a join committing now is not seen by the fan-out, nor it by them (ADR 0033).
        await store.hold_audience(uow.conn)
        return await store.fan_out(uow.conn, item_id, content, *digests, new)

    async def end_item(self, uow: UnitOfWork, event: curation.ItemRetracted | curation.ItemExpired) -> None:
        """Out of every feed; scheduled posts cancelled; posted ones asked to come down."""
        retracted = isinstance(event, curation.ItemRetracted)
        reason = CancellationReason.ITEM_RETRACTED if retracted else CancellationReason.ITEM_EXPIRED
        item_id = event.data.item_id
        # A yes's or a join's backfill committing now would not be seen by the delete, and
        # would have seen the item active: they wait for each other (ADR 0033).
        await store.hold_audience(uow.conn)
        await store.end_item(uow.conn, item_id, "retracted" if retracted else "expired")
        await self._end_shares(uow, await share_store.cancel_scheduled(uow.conn, item_id=item_id), reason,
                               ShareCancelled)
        await self._end_shares(uow, await share_store.posted(uow.conn, item_id), reason, RetractionRequested)

    # --- shares ----------------------------------------------------------------------------

    async def request_share(self, uow: UnitOfWork, command: RequestShare) -> None:
        await self.share(uow, command)

    async def share(self, uow: UnitOfWork, command: RequestShare) -> AdvocateShare:
        """A tracked link for the advocate's post of an item in their feed, now or scheduled;
        returns the new share. Raises `Rejected` with the first rule it breaks."""
        request, now = command.data, self.clock()
        if request.actor != request.advocate_id:
            raise Rejected(Reason.ACTOR_NOT_SUBJECT, "only the advocate can share in their own name")
        # Both consent rows stay locked until commit: a withdrawal racing this request waits,
        # then finds (and cancels) what it created.
        found, _, may_schedule, in_feed = await store.share_context(uow.conn, request.advocate_id, request.item_id)
        item = domain.item_in_feed(found, in_feed)
        code = links.new_code()
        link = links.tracked_url(self.settings.public_base_url, code)
        text = domain.share_text(item, request.network, request.text)
        post = domain.post_of(text, item, link)
        domain.check_share(item, in_feed, request.network, post, request.scheduled_at, may_schedule, now)
        share_id = uuid.uuid4().hex
        try:
            target = links.redirect_target(item.source_url, request.network, item.campaign_id, item.item_id)
        except ValueError:  # curation checks this too; a host IDNA refuses has no ASCII form
            raise Rejected(Reason.INVALID_URL, "the item's URL cannot be written as a link") from None
        made = await share_store.create(uow.conn, share_id, code, request.advocate_id, item.item_id,
                                        item.campaign_id, request.network.value, post, target,
                                        request.scheduled_at, now, deferred=uow.deferred)
        await uow.emit(self.topics.events, ShareCreated, share_id, Share(
            share_id=share_id, advocate_id=request.advocate_id, item_id=item.item_id,
            campaign_id=item.campaign_id, network=request.network, text=text, tracked_url=link,
            share_intent_url=links.share_intent_url(request.network, link, post),
            scheduled_at=request.scheduled_at, created_at=now))
        return made

    async def cancel_share(self, uow: UnitOfWork, command: CancelShare) -> None:
        """The advocate calls off their scheduled share: it is not posted. Only their own,
        only while scheduled (`domain.check_cancel`)."""
        cancellation = command.data
        if cancellation.actor != cancellation.advocate_id:
            raise Rejected(Reason.ACTOR_NOT_SUBJECT, "only the advocate can cancel their own shares")
        domain.check_cancel(await share_store.status_for_update(uow.conn, cancellation.advocate_id,
                                                                cancellation.share_id))
        ended = await share_store.cancel(uow.conn, cancellation.share_id)
        await self._end_shares(uow, [ended], CancellationReason.CANCELLED_BY_ADVOCATE, ShareCancelled)

    async def record_outcome(self, uow: UnitOfWork, event: engagement.SharePublished | engagement.ShareFailed
                             ) -> None:
        """A connector's report. A share recalled while in flight (withdrawal, erasure) that it
        posted all the same is asked to come down (`share.retraction.requested`)."""
        status = "published" if isinstance(event, engagement.SharePublished) else "failed"
        recalled = await share_store.record_outcome(uow.conn, event.data.share_id, status)
        if recalled is not None:
            share, reason = recalled
            await self._end_shares(uow, [share], CancellationReason(reason), RetractionRequested)

    # --- schedule jobs ---------------------------------------------------------------------

    async def send_due_notifications(self, uow: UnitOfWork, now: datetime) -> int:
        """Notification requests for what is due: immediate ones up to the daily cap per
        person (the rest wait for the daily digest), digests together."""
        await store.adopt_queued_notifications(uow.conn)  # a rolling upgrade's older pods' (ADR 0025)
        due = await store.claim_due_notifications(uow.conn, now, _NOTIFICATIONS_PER_PASS)
        immediate = {n.advocate_id for n in due if n.digest is Digest.IMMEDIATE}
        sent = await store.immediate_sent(uow.conn, now.date(), sorted(immediate))
        plan = domain.plan_notifications(due, sent, self.settings.notification_daily_cap)
        await store.postpone_to_daily(uow.conn, plan.postpone,
                                      domain.next_digest(Digest.DAILY, now, self.settings.digest_hour_utc))
        await store.count_immediate_sent(uow.conn, now.date(), plan.immediate_sent)
        await uow.emit_many(self.topics.events, NotificationRequested, [
            (advocate, Notification(advocate_id=advocate, digest=digest, item_ids=items))
            for advocate, digest, items in plan.send])
        return len(due)

    async def request_due_posts(self, uow: UnitOfWork, now: datetime) -> int:
        """Scheduled shares whose time has come become publish requests for connectors."""
        due = await share_store.claim_due(uow.conn, now)
        await uow.emit_many(self.topics.posts, PublishRequested, [
            (p.share_id, PostRequest(share_id=p.share_id, advocate_id=p.advocate_id, network=p.network, post=p.post))
            for p in due])
        return len(due)

    async def place_yeses(self, uow: UnitOfWork, now: datetime) -> int:
        """People whose yes and join committed at the same moment, neither seeing the other
        (ADR 0033), get what is active and reaches them."""
        return await store.place_yeses(uow.conn, *self._digests(), self.settings.notification_daily_cap)

    async def tell_audience_growth(self, uow: UnitOfWork, now: datetime) -> int:
        """Partners learn how far active items reached after publication, in steps of at
        least k people, never one person's yes (ADR 0022)."""
        k = self.settings.k_anonymity
        await store.count_reach(uow.conn)
        grown = await store.claim_growth(uow.conn, k, _GROWTH_PER_PASS)
        await uow.emit_many(self.topics.items, ItemAudienceGrew, [
            (g.item_id, AudienceGrowth(item_id=g.item_id, audience_size=g.reached, added=g.added, k=k,
                                       counted_at=now)) for g in grown])
        return len(grown)

    # ---------------------------------------------------------------------------------------

    @property
    def stand_in_link(self) -> str:
        """A tracked link as long as the real ones, to count a post before its link exists."""
        return tracked_link(self.settings.public_base_url)

    def _post_lengths(self, item_id: str, content: dict[str, Any]) -> dict[str, Any]:
        """The item's suggested posts counted once, for every feed page to come (store.feed_page)."""
        link = self.stand_in_link
        return {"link": link, "lengths": domain.post_lengths(ItemView.of(item_id, "active", None, content), link)}

    def _digests(self) -> tuple[datetime, datetime, datetime]:
        """Now, and when the next daily and weekly digests go out."""
        now, hour = self.clock(), self.settings.digest_hour_utc
        return now, domain.next_digest(Digest.DAILY, now, hour), domain.next_digest(Digest.WEEKLY, now, hour)

    async def _end_shares(self, uow: UnitOfWork, ended: Sequence[EndedShare], reason: CancellationReason,
                          event_type: type[ShareCancelled] | type[RetractionRequested]) -> None:
        # A cancellation is the platform's (metrics uncounts it), and the connector's too when the
        # post was handed to it already; a retraction is for connectors.
        def told(shares: Sequence[EndedShare]) -> list[tuple[str, ShareEnded]]:
            return [(s.share_id, ShareEnded(share_id=s.share_id, item_id=s.item_id, network=s.network,
                                            reason=reason)) for s in shares]

        if event_type is RetractionRequested:
            await uow.emit_many(self.topics.posts, RetractionRequested, told(ended))
            return
        await uow.emit_many(self.topics.events, ShareCancelled, told(ended))
        await uow.emit_many(self.topics.posts, PublishCancelled, told([s for s in ended if s.in_flight]))
