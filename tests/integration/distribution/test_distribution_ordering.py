"""Late, replayed and racing events: a "no" stays a "no", a retracted item stays retracted,
and a posted link keeps pointing where it pointed."""

import asyncio
from datetime import UTC, datetime, timedelta

from harness.kafka import eventually
from schemas import curation, directory
from schemas.consent import Purpose

ANNA = "adv-anna-001"


async def projected(distribution, people: int, consents: int) -> None:
    async def done() -> bool:
        return await distribution.count("people") == people and await distribution.count("consents") == consents

    await eventually(done, what=f"{people} people and {consents} consents projected")


async def test_a_late_given_older_than_the_withdrawal_does_not_revive_consent(distribution):
    await distribution.join(ANNA)
    given = distribution.consent_event(ANNA, Purpose.RECEIVE_CONTENT)
    withdrawn = distribution.consent_event(ANNA, Purpose.RECEIVE_CONTENT, valid=False)
    # Replayed after the withdrawal, dated after it too: consent's order (sequence) decides.
    stale = given.model_copy(update={"data": given.data.model_copy(
        update={"changed_at": withdrawn.data.changed_at + timedelta(minutes=5)})})
    marker = distribution.consent_event(ANNA, Purpose.LEADERBOARD)  # same key, after both: once it is in, they are
    await distribution.send_to(distribution.topics.consent_events, withdrawn, stale, marker)
    await projected(distribution, 1, 2)
    assert [r["valid"] for r in await distribution.fetch(
        "SELECT valid FROM consents WHERE purpose = 'receive_content'")] == [False]
    await distribution.publish("item-after-0001")
    await distribution.events("advocacy.distribution.item.distributed.v2")
    assert await distribution.count("feed") == 0


async def test_a_withdrawal_dated_before_the_consent_it_withdraws_still_applies(distribution):
    """The consent service's clock stepped back (NTP, or a replica behind) between a give and
    its withdrawal: the withdrawal is later in consent's order, so it applies (review S7)."""
    await distribution.join(ANNA)
    given = distribution.consent_event(ANNA, Purpose.RECEIVE_CONTENT)
    withdrawn = distribution.consent_event(ANNA, Purpose.RECEIVE_CONTENT, valid=False)
    stepped_back = withdrawn.model_copy(update={"data": withdrawn.data.model_copy(
        update={"changed_at": given.data.changed_at - timedelta(minutes=5)})})
    marker = distribution.consent_event(ANNA, Purpose.LEADERBOARD)  # same key, after both
    await distribution.send_to(distribution.topics.consent_events, given, stepped_back, marker)
    await projected(distribution, 1, 2)
    assert [r["valid"] for r in await distribution.fetch(
        "SELECT valid FROM consents WHERE purpose = 'receive_content'")] == [False]
    await distribution.publish("item-after-0002")
    [summary] = await distribution.events("advocacy.distribution.item.distributed.v2")
    assert summary["data"]["audience_below_k"] is True  # nobody, said as "fewer than k" (ADR 0018)
    assert await distribution.count("feed") == 0


async def test_a_replayed_publication_of_a_retracted_item_reaches_nobody(distribution):
    await distribution.join(ANNA)
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT)
    await projected(distribution, 1, 1)
    published = distribution.published("item-gone-0001")
    await distribution.send_to(distribution.topics.curation_events, published, curation.ItemRetracted(
        source="/advocacy/curation", subject="item-gone-0001",
        data=curation.RetractedItem(item_id="item-gone-0001", actor="editor-01", reason="wrong")))
    await distribution.events("advocacy.distribution.item.distributed.v2")

    async def retracted() -> bool:
        return [r["status"] for r in await distribution.fetch("SELECT status FROM items")] == ["retracted"]

    await eventually(retracted, what="the retraction")
    replay = published.model_copy(update={"id": "replayed-publication-1"})  # e.g. replayed from a dead letter
    await distribution.send_to(distribution.topics.curation_events, replay, distribution.published("item-marker-001"))
    await distribution.events("advocacy.distribution.item.distributed.v2", at_least=2)
    assert await distribution.fetch("SELECT 1 FROM feed WHERE item_id = 'item-gone-0001'") == []
    distributed = await distribution.events("advocacy.distribution.item.distributed.v2", at_least=2)
    assert sorted(e["subject"] for e in distributed) == ["item-gone-0001", "item-marker-001"]  # no second one


async def test_a_replayed_publication_of_an_active_item_adds_nothing_and_still_completes(distribution):
    """A first publication fans out with plain inserts (no entry can exist yet); a replay of
    an item still active finds the entries there and leaves them, with what they wait for."""
    await distribution.join(ANNA, digest="weekly")
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT)
    await projected(distribution, 1, 1)
    published = distribution.published("item-twice-0001")
    await distribution.send_to(distribution.topics.curation_events, published)
    await distribution.events("advocacy.distribution.item.distributed.v2")
    [first] = await distribution.fetch("SELECT advocate_id, delivered_at, digest, due_at FROM feed")
    replay = published.model_copy(update={"id": "replayed-publication-2"})
    await distribution.send_to(distribution.topics.curation_events, replay)
    await distribution.events("advocacy.distribution.item.distributed.v2", at_least=2)
    assert await distribution.fetch("SELECT advocate_id, delivered_at, digest, due_at FROM feed") == [first]
    assert first["advocate_id"] == ANNA and first["digest"] == "weekly"


async def test_withdrawals_racing_scheduled_share_requests_leave_no_share_scheduled(distribution):
    people = [f"adv-race-{n:04d}" for n in range(30)]
    await distribution.send_to(distribution.topics.directory, *[distribution.join_event(p) for p in people])
    await distribution.send_to(distribution.topics.consent_events, *[distribution.consent_event(p, purpose) for p in people
                                                for purpose in (Purpose.RECEIVE_CONTENT, Purpose.SCHEDULED_SHARING)])
    await projected(distribution, len(people), 2 * len(people))
    await distribution.publish("item-race-0001")
    await distribution.events("advocacy.distribution.item.distributed.v2")
    later = datetime.now(UTC) + timedelta(hours=1)
    withdrawals = asyncio.create_task(distribution.send_to(distribution.topics.consent_events, *[
        distribution.consent_event(p, Purpose.SCHEDULED_SHARING, valid=False) for p in people]))
    answers = await asyncio.gather(*[distribution.share(p, "item-race-0001", scheduled_at=later) for p in people])
    await withdrawals
    # Each request is either made (and then cancelled by the withdrawal after it) or refused.
    assert {(r.status_code, r.json().get("reason")) for r in answers} <= {
        (201, None), (403, "scheduled_sharing_not_consented")}

    async def all_withdrawn() -> bool:
        return len(await distribution.fetch("SELECT 1 FROM consents WHERE NOT valid")) == len(people)

    await eventually(all_withdrawn, timeout=30, what="every withdrawal applied")
    assert await distribution.count("shares") == sum(r.status_code == 201 for r in answers)
    assert await distribution.fetch("SELECT share_id FROM shares WHERE status = 'scheduled'") == []


async def test_a_posted_link_keeps_its_target_when_the_item_is_edited_later(distribution):
    await distribution.join(ANNA)
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT)
    await projected(distribution, 1, 1)
    await distribution.publish("item-edit-0001", source_url="https://example.org/original")
    await distribution.events("advocacy.distribution.item.distributed.v2")
    created = {"data": await distribution.shared(ANNA, "item-edit-0001")}
    edited = distribution.published("item-edit-0001", source_url="https://elsewhere.example/")
    await distribution.send_to(distribution.topics.curation_events, curation.ItemUpdated(
        source="/advocacy/curation", subject="item-edit-0001", data=edited.data))

    async def updated() -> bool:
        rows = await distribution.fetch("SELECT content->>'source_url' AS url FROM items")
        return [r["url"] for r in rows] == ["https://elsewhere.example/"]

    await eventually(updated, what="the edit projected")
    status, headers = await distribution.visit("/r/" + created["data"]["tracked_url"].rsplit("/r/", 1)[1])
    assert status == 302 and headers["location"].startswith("https://example.org/original?")


async def test_a_message_on_another_topic_cannot_claim_a_withdrawals_id_and_silence_it(distribution):
    """Duplicates are detected per topic (review S6): HR's directory topic has other writers
    than consent's events, and an id taken there is not one taken here."""
    await distribution.join(ANNA)
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT)
    await projected(distribution, 1, 1)
    withdrawn = distribution.consent_event(ANNA, Purpose.RECEIVE_CONTENT, valid=False)
    forged = directory.PersonChanged(id=withdrawn.id, source="/hr", subject=ANNA,
                                     data=directory.Profile(advocate_id=ANNA, role="employee", languages=["de"]))
    await distribution.send_to(distribution.topics.directory, forged)
    await distribution.until("SELECT count(*) FROM inbox WHERE event_id = $1", 1, withdrawn.id,
                             what="the forged id handled first")
    await distribution.send_to(distribution.topics.consent_events, withdrawn)
    await distribution.until("SELECT valid FROM consents WHERE purpose = 'receive_content'", False,
                             what="the withdrawal applied")
