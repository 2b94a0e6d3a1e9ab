"""Withdrawal, erasure, and a withdrawal racing a fan-out: nothing reaches a person who said no."""

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from harness.kafka import eventually
from schemas import curation, directory, engagement
from schemas.consent import AdvocateErased, AdvocateErasure, Purpose
from schemas.distribution import CancellationReason
from services.distribution import share_store, store
from services.runtime.unit_of_work import UnitOfWork
from tests.integration.distribution import steps
from tests.integration.rig import next_sequence

ANNA = "adv-anna-001"
BEN = "adv-ben-0002"
ITEM = "item-plant-0001"


async def anna_schedules_a_share(distribution, due_in: timedelta, **profile: object) -> None:
    """Anna joins (with `profile`), receives content and allows scheduled sharing, gets the
    item, and schedules a share of it `due_in` from now."""
    await distribution.join(ANNA, languages=["de"], **profile)
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT, Purpose.SCHEDULED_SHARING)

    async def projected() -> bool:
        return await distribution.count("consents") == 2 and await distribution.count("people") == 1

    await eventually(projected, what="Anna projected")
    await distribution.publish(ITEM)
    await distribution.events("advocacy.distribution.item.distributed.v2")
    await distribution.shared(ANNA, ITEM, scheduled_at=datetime.now(UTC) + due_in)


async def anna_with_a_scheduled_share(distribution) -> dict:
    await anna_schedules_a_share(distribution, timedelta(days=1), digest="weekly")
    [created] = await distribution.events("advocacy.distribution.share.created.v1")
    return created


async def test_withdrawing_receive_content_empties_the_feed_and_cancels_scheduled_shares(distribution):
    created = await anna_with_a_scheduled_share(distribution)
    assert await distribution.count("feed") == 1 and await distribution.count("waiting_notifications") == 1

    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT, valid=False)
    [cancelled] = await distribution.events("advocacy.distribution.share.cancelled.v1")
    assert cancelled["subject"] == created["subject"] and cancelled["data"]["reason"] == "consent_withdrawn"
    assert await distribution.count("feed") == 0 and await distribution.count("waiting_notifications") == 0
    assert [r["status"] for r in await distribution.fetch("SELECT status FROM shares")] == ["cancelled"]
    # Never handed to a connector: nothing for it to call off.
    assert await distribution.events_now("advocacy.distribution.share.publish.cancelled.v1") == []


async def test_after_erasure_no_row_holds_the_advocates_id(distribution):
    await anna_with_a_scheduled_share(distribution)
    await distribution.send_to(distribution.topics.consent_events, AdvocateErased(
        source="/advocacy/consent", subject=ANNA, data=AdvocateErasure(advocate_id=ANNA, erased_at=datetime.now(UTC))))
    await distribution.events("advocacy.distribution.share.cancelled.v1")

    async def gone() -> bool:
        return await distribution.count("people") == 0

    await eventually(gone, what="Anna erased")
    tables = [r["table_name"] for r in await distribution.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]
    for table in tables:
        rows = await distribution.fetch(f"SELECT t::text AS row FROM {table} t")
        assert not [r for r in rows if ANNA in r["row"]], table
    assert await distribution.count("shares") == 1  # the link in her post still resolves, unattributed


async def test_a_withdrawal_racing_a_fan_out_leaves_nothing_for_the_person(distribution):
    people = [f"adv-many-{n:05d}" for n in range(3000)]
    leaving = people[::150]  # 20 people withdraw while the item is fanned out
    await distribution.send_to(distribution.topics.directory, *[distribution.join_event(p, digest="daily") for p in people])
    await distribution.send_to(distribution.topics.consent_events, *[distribution.consent_event(p, Purpose.RECEIVE_CONTENT) for p in people])

    async def projected() -> bool:
        return await distribution.count("consents") == len(people) and await distribution.count("people") == len(people)

    await eventually(projected, timeout=60, what="3,000 people projected")
    await asyncio.gather(
        distribution.publish(ITEM),
        distribution.send_to(distribution.topics.consent_events,
                             *[distribution.consent_event(p, Purpose.RECEIVE_CONTENT, valid=False) for p in leaving]))
    [_distributed] = await distribution.events("advocacy.distribution.item.distributed.v2")

    async def withdrawals_applied() -> bool:
        rows = await distribution.fetch("SELECT count(*) AS n FROM consents WHERE NOT valid")
        return rows[0]["n"] == len(leaving)

    await eventually(withdrawals_applied, what="the withdrawals applied")
    feed = {r["advocate_id"] for r in await distribution.fetch("SELECT advocate_id FROM feed")}
    queued = {r["advocate_id"] for r in await distribution.fetch("SELECT advocate_id FROM waiting_notifications")}
    assert feed == queued == set(people) - set(leaving)


@pytest.mark.parametrize("change", ["a no", "an erasure"])
@pytest.mark.parametrize("change_first", [True, False], ids=["change-then-fan-out", "fan-out-then-change"])
async def test_a_withdrawal_or_erasure_racing_a_fan_out_leaves_the_item_in_no_feed(distribution, change, change_first):
    """Two transactions (tests/integration/distribution/steps.py): the fan-out reads consent
    rows without a lock, so the no or the erasure waits for it on the audience lock, or it for
    them (ADR 0039). Without that lock, the fan-out that began first wrote Anna's entry after
    the delete that was to remove it."""
    await steps.committed(distribution, steps.join(distribution, ANNA))
    await steps.committed(distribution, steps.consent(distribution, ANNA))
    shrinking = steps.consent(distribution, ANNA, valid=False) if change == "a no" else steps.erase(ANNA)
    fan_out = steps.publish(distribution, ITEM)
    await steps.race(distribution, *((shrinking, fan_out) if change_first else (fan_out, shrinking)))
    assert await steps.feed_of(distribution, ANNA) == []
    reached = await distribution.fetchval("SELECT reached FROM item_reach WHERE item_id = $1", ITEM)
    assert reached == (0 if change_first else 1)  # the fan-out that came first reached her


async def test_a_consent_batch_cancelling_shares_and_then_withdrawing_does_not_deadlock_with_an_items_end(
        distribution):
    """A batch (one transaction) with Anna's no to scheduled sharing, which cancels her share of
    the item, then Ben's no to receiving, while the item is retracted: the retraction holds the
    audience lock exclusive and waits for Anna's share; Ben's no waited for the lock. Postgres
    broke the cycle after a second (found by a review of ADR 0039). Both nos now take the lock
    before locking any share, as the retraction does."""
    await anna_schedules_a_share(distribution, timedelta(days=2))
    await distribution.join(BEN, languages=["de"])
    await distribution.consent(BEN, Purpose.RECEIVE_CONTENT)
    await eventually(lambda: _counted(distribution, "people", 2), what="Ben in the directory")
    batch, ending = [await asyncpg.connect(distribution.settings.database_url) for _ in range(2)]
    handlers = steps.handlers_of(distribution)
    try:
        batch_tx, ending_tx = batch.transaction(), ending.transaction()
        await batch_tx.start()
        await handlers.apply_consent(UnitOfWork(batch, "/test"),
                                     distribution.consent_event(ANNA, Purpose.SCHEDULED_SHARING, valid=False))
        await ending_tx.start()
        retracting = asyncio.create_task(steps.retract(ITEM)(handlers, UnitOfWork(ending, "/test")))
        await eventually(lambda: steps.waiting_for_a_lock(distribution, ending), what="the retraction waiting")
        await handlers.apply_consent(UnitOfWork(batch, "/test"),
                                     distribution.consent_event(BEN, Purpose.RECEIVE_CONTENT, valid=False))
        await batch_tx.commit()
        await retracting
        await ending_tx.commit()
    finally:
        await batch.close()
        await ending.close()
    assert [r["status"] for r in await distribution.fetch("SELECT status FROM shares")] == ["cancelled"]
    assert await distribution.count("feed") == 0


async def test_a_withdrawal_racing_a_postponed_notification_leaves_nothing_to_send(distribution):
    """The notifier claims Anna's due notification and, over the daily cap, puts it off to the
    next digest; her withdrawal arrives meanwhile and must wait for it, then remove what waits.
    (When a postponement was a new row of its own, the withdrawal's delete, begun before it was
    committed, missed it: the notification went out after her no.)"""
    await distribution.join(ANNA, languages=["de"], digest="weekly")  # due next week: not the service's to claim
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT)
    await eventually(lambda: _counted(distribution, "consents", 1), what="Anna's consent")
    await eventually(lambda: _counted(distribution, "people", 1), what="Anna in the directory")
    await distribution.publish(ITEM)
    await eventually(lambda: _counted(distribution, "waiting_notifications", 1), what="Anna's notification queued")
    later = datetime.now(UTC) + timedelta(days=8)
    notifier, withdrawal = [await asyncpg.connect(distribution.settings.database_url) for _ in range(2)]
    try:
        claiming = notifier.transaction()
        await claiming.start()
        [due] = await store.claim_due_notifications(notifier, later, 10)
        await store.postpone_to_daily(notifier, [(due.advocate_id, due.item_id)], later + timedelta(days=1))
        withdrawing = withdrawal.transaction()
        await withdrawing.start()
        # The no's two statements, as the handler runs them: the upsert with the audience lock,
        # then the shares' cancel carrying the feed's delete.
        assert await store.withdraw_consent(withdrawal, ANNA, Purpose.RECEIVE_CONTENT.value, next_sequence())
        stopping = asyncio.create_task(share_store.cancel_unposted(
            withdrawal, ANNA, CancellationReason.CONSENT_WITHDRAWN.value, stopping_delivery=True))
        await eventually(lambda: steps.waiting_for_a_lock(distribution, withdrawal),
                         what="the withdrawal waiting for the notifier's claim")
        await claiming.commit()
        await stopping
        await withdrawing.commit()
    finally:
        await notifier.close()
        await withdrawal.close()
    assert await distribution.count("feed") == 0
    assert await distribution.count("waiting_notifications") == 0


async def test_a_yes_after_publication_brings_what_is_active_and_only_what_reaches_the_person(distribution):
    await distribution.join(ANNA, languages=["de"])
    await eventually(lambda: _counted(distribution, "people", 1), what="Anna in the directory")
    await distribution.publish(ITEM)
    await distribution.publish("item-french-0001", language="fr")  # not for Anna: she reads German only
    await distribution.publish("item-retracted-1")
    await distribution.events("advocacy.distribution.item.distributed.v2", at_least=3)
    await distribution.send_to(distribution.topics.curation_events, curation.ItemRetracted(
        source="/advocacy/curation", subject="item-retracted-1",
        data=curation.RetractedItem(item_id="item-retracted-1", actor="editor-01", reason="outdated figures")))
    await eventually(lambda: _counted(distribution, "items WHERE status = 'retracted'", 1), what="the retraction")
    assert await distribution.count("feed") == 0  # no yes, nothing

    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT)
    await eventually(lambda: _counted(distribution, "feed", 1), what="the active item in Anna's feed")
    assert [r["item_id"] for r in await distribution.fetch("SELECT item_id FROM feed")] == [ITEM]
    assert await distribution.count("waiting_notifications") == 1

    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT, valid=False)  # no, then yes again: back, once
    await eventually(lambda: _counted(distribution, "feed", 0), what="the withdrawal")
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT)
    await eventually(lambda: _counted(distribution, "feed", 1), what="the item back")


async def test_a_yes_again_while_receiving_keeps_the_feed_and_brings_what_reaches_the_person_now(distribution):
    """A first yes writes the person's entries plainly (nobody else can be writing them: the
    consent row is held); a yes again finds entries there and keeps them, adding only what
    reaches the person now."""
    await distribution.join(ANNA, languages=["de"])
    await eventually(lambda: _counted(distribution, "people", 1), what="Anna in the directory")
    await distribution.publish(ITEM)
    await distribution.publish("item-french-0001", language="fr")
    await distribution.events("advocacy.distribution.item.distributed.v2", at_least=2)
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT)
    await eventually(lambda: _counted(distribution, "feed", 1), what="the German item in Anna's feed")
    [before] = await distribution.fetch("SELECT item_id, delivered_at FROM feed")

    await distribution.send_to(distribution.topics.directory, directory.PersonChanged(
        source="/hr", subject=ANNA, data=directory.Profile(advocate_id=ANNA, role="employee", languages=["de", "fr"])))
    await eventually(lambda: _counted(distribution, "people WHERE 'fr' = ANY(languages)", 1), what="Anna reads French")
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT)  # again, later in consent's order
    await eventually(lambda: _counted(distribution, "feed", 2), what="the French item in Anna's feed")
    assert await distribution.count("feed WHERE item_id = $1 AND delivered_at = $2", *before) == 1  # kept as it was
    reached = ("SELECT (SELECT coalesce(sum(reached), 0) FROM item_reach)"
               " + (SELECT count(*) FROM reach_lists, unnest(items))")  # counted, or logged to be
    assert await distribution.fetchval(reached) == 2  # each item reached her once


async def _counted(distribution, table: str, expected: int) -> bool:
    return await distribution.count(table) == expected


async def test_a_yes_that_arrives_before_the_person_joins_still_brings_what_is_active(distribution):
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT)  # consent and directory: two topics, no order
    await eventually(lambda: _counted(distribution, "consents", 1), what="Anna's consent")
    await distribution.publish(ITEM)
    await distribution.events("advocacy.distribution.item.distributed.v2")
    assert await distribution.count("feed") == 0  # not in the directory yet

    await distribution.join(ANNA, languages=["de"])
    await eventually(lambda: _counted(distribution, "feed", 1), what="the item in Anna's feed once she joined")


async def anna_with_a_share_handed_to_the_connector(distribution) -> dict:
    await anna_schedules_a_share(distribution, timedelta(seconds=1))
    [requested] = await distribution.events("advocacy.distribution.share.publish.requested.v1")
    assert [r["status"] for r in await distribution.fetch("SELECT status FROM shares")] == ["publish_requested"]
    return requested


async def test_withdrawing_scheduled_sharing_cancels_a_post_already_handed_to_the_connector(distribution):
    requested = await anna_with_a_share_handed_to_the_connector(distribution)
    await distribution.consent(ANNA, Purpose.SCHEDULED_SHARING, valid=False)
    [cancelled] = await distribution.events("advocacy.distribution.share.cancelled.v1")
    assert cancelled["subject"] == requested["subject"] and cancelled["data"]["reason"] == "consent_withdrawn"
    # The connector reads only its posts topic: the cancellation reaches it there, on the same key.
    [told] = await distribution.events("advocacy.distribution.share.publish.cancelled.v1")
    assert told["subject"] == requested["subject"] and told["data"]["reason"] == "consent_withdrawn"
    assert [r["status"] for r in await distribution.fetch("SELECT status FROM shares")] == ["cancelled"]


async def test_erasure_cancels_a_post_already_handed_to_the_connector(distribution):
    requested = await anna_with_a_share_handed_to_the_connector(distribution)
    await distribution.send_to(distribution.topics.consent_events, AdvocateErased(
        source="/advocacy/consent", subject=ANNA, data=AdvocateErasure(advocate_id=ANNA, erased_at=datetime.now(UTC))))
    [cancelled] = await distribution.events("advocacy.distribution.share.cancelled.v1")
    assert cancelled["subject"] == requested["subject"] and cancelled["data"]["reason"] == "advocate_erased"
    [told] = await distribution.events("advocacy.distribution.share.publish.cancelled.v1")
    assert told["subject"] == requested["subject"] and told["data"]["reason"] == "advocate_erased"
    assert [r["status"] for r in await distribution.fetch("SELECT status FROM shares")] == ["cancelled"]


async def test_a_post_the_connector_made_despite_the_cancellation_is_asked_to_come_down_once(distribution):
    requested = await anna_with_a_share_handed_to_the_connector(distribution)
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT, valid=False)
    await distribution.events("advocacy.distribution.share.cancelled.v1")
    share_id = requested["subject"]
    # The connector had posted it before it read the cancellation; it says so, twice.
    reports = [engagement.SharePublished(source="/connector", subject=share_id, data=engagement.PostOutcome(
        share_id=share_id, network="linkedin", at=datetime.now(UTC))) for _ in range(2)]
    await distribution.send_to(distribution.topics.engagement, *reports)
    [retraction] = await distribution.events("advocacy.distribution.share.retraction.requested.v1")
    assert retraction["subject"] == share_id and retraction["data"]["reason"] == "consent_withdrawn"
    await distribution.until("SELECT count(*) FROM inbox WHERE event_id = ANY($1)", 2, [r.id for r in reports])
    assert len(await distribution.events_now("advocacy.distribution.share.retraction.requested.v1")) == 1
    assert [r["status"] for r in await distribution.fetch("SELECT status FROM shares")] == ["cancelled"]


async def test_engagement_observations_distribution_has_no_handler_for_keep_no_inbox_row(distribution):
    """Distribution reads the connectors' topic for posts' outcomes; their counters, the bulk
    of that topic, change nothing here and leave no id behind (ADR 0021)."""
    share_id = "share-without-a-row-0001"
    observed = [engagement.EngagementObserved(source="/connector", subject=share_id, data=engagement.Engagement(
        share_id=share_id, network="linkedin", impressions=n, observed_at=datetime.now(UTC))) for n in range(5)]
    outcome = engagement.ShareFailed(source="/connector", subject=share_id, data=engagement.PostOutcome(
        share_id=share_id, network="linkedin", at=datetime.now(UTC), detail="gone"))
    await distribution.send_to(distribution.topics.engagement, *observed, outcome)  # one key: one partition, in order
    await distribution.until("SELECT count(*) FROM inbox WHERE event_id = $1", 1, outcome.id)
    assert await distribution.count("inbox WHERE event_id = ANY($1)", [o.id for o in observed]) == 0


async def test_notifications_an_older_pod_queued_during_an_upgrade_are_sent_once_or_dropped_with_their_entry(
        distribution):
    """During a rolling upgrade to migration 007, pods of the version before still queue a
    notification as a row of `pending_notifications`: the new notifier moves it into its
    feed entry and sends it; a row whose entry is gone (the person said no) is dropped."""
    await distribution.join(ANNA, languages=["de"], digest="weekly")  # due next week: the service leaves it
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT)
    await eventually(lambda: _counted(distribution, "consents", 1), what="Anna's consent")
    await eventually(lambda: _counted(distribution, "people", 1), what="Anna in the directory")
    await distribution.publish(ITEM)
    await eventually(lambda: _counted(distribution, "waiting_notifications", 1), what="Anna's notification waiting")
    # What an older pod's fan-out would have left: the entry without its notification, a row of its own.
    await distribution.fetch("UPDATE feed SET digest = NULL, due_at = NULL")
    await distribution.fetch(
        "INSERT INTO pending_notifications (advocate_id, item_id, digest, due_at) VALUES "
        "($1, $3, 'immediate', now()), ($2, $3, 'immediate', now())", ANNA, "adv-gone-0002", ITEM)

    [notice] = await distribution.events("advocacy.distribution.notification.requested.v1")
    assert (notice["subject"], notice["data"]["item_ids"]) == (ANNA, [ITEM])
    await eventually(lambda: _counted(distribution, "pending_notifications", 0), what="the older pod's rows taken")
    assert await distribution.count("waiting_notifications") == 0
    assert await distribution.events_now("advocacy.distribution.notification.requested.v1") == [notice]
