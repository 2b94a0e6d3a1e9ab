"""Publication → audience: targeting AND active receive_content consent AND language AND
interests; feed entries for exactly those people, and a summary with the audience size."""

from harness.kafka import eventually
from schemas.consent import Purpose

ITEM = "item-plant-0001"


async def feed_of(distribution, item_id: str) -> set[str]:
    return {r["advocate_id"] for r in await distribution.fetch("SELECT advocate_id FROM feed WHERE item_id = $1", item_id)}


async def test_only_consenting_targeted_people_in_the_items_language_and_interests_receive_it(distribution):
    await distribution.join("adv-anna-001", languages=["de", "en"], org_unit="Sales")
    await distribution.join("adv-bert-002", languages=["de"], org_unit="Sales", interests=["energy"])
    await distribution.join("adv-carl-003", languages=["de"], org_unit="Sales")  # gives no consent
    await distribution.join("adv-dora-004", languages=["fr"], org_unit="Sales")  # another language
    await distribution.join("adv-emil-005", languages=["de"], org_unit="HR")  # another org unit
    await distribution.join("adv-fred-006", role="partner", languages=["de"], org_unit="Sales")  # not an employee
    await distribution.join("adv-gina-007", languages=["de"], org_unit="Sales", interests=["sports"])  # other interests
    await distribution.join("adv-hans-008", languages=["de"], org_unit="Sales")  # gives, then withdraws
    for advocate in ("adv-anna-001", "adv-bert-002", "adv-dora-004", "adv-emil-005", "adv-fred-006",
                     "adv-gina-007", "adv-hans-008"):
        await distribution.consent(advocate, Purpose.RECEIVE_CONTENT)
    await distribution.consent("adv-carl-003", Purpose.LEADERBOARD)  # consent to something else is not enough
    await distribution.consent("adv-hans-008", Purpose.RECEIVE_CONTENT, valid=False)

    async def projected() -> bool:
        return await distribution.count("consents") == 8 and await distribution.count("people") == 8

    await eventually(projected, what="consents projected")
    await distribution.publish(ITEM, topics=["energy"], audience={"roles": ["employee"], "org_units": ["Sales"]})

    [summary] = await distribution.events("advocacy.distribution.item.distributed.v1")
    assert await feed_of(distribution, ITEM) == {"adv-anna-001", "adv-bert-002"}
    assert summary["subject"] == ITEM and summary["data"]["audience_size"] == 2


async def test_notifications_follow_each_persons_digest_and_the_daily_cap(distribution):
    await distribution.join("adv-ivan-009", languages=["de"], digest="immediate")
    await distribution.join("adv-jana-010", languages=["de"], digest="daily")
    await distribution.join("adv-kurt-011", languages=["de"], digest="off")
    for advocate in ("adv-ivan-009", "adv-jana-010", "adv-kurt-011"):
        await distribution.consent(advocate, Purpose.RECEIVE_CONTENT)

    async def projected() -> bool:
        return await distribution.count("consents") == 3 and await distribution.count("people") == 3

    await eventually(projected, what="consents projected")
    for n in range(4):  # one more than the daily cap of 3
        await distribution.publish(f"item-news-000{n}")

    waiting: list = []

    async def settled() -> bool:  # all four fanned out, Ivan's four immediate ones handled by the notifier
        waiting[:] = await distribution.fetch("SELECT advocate_id, item_id, digest, due_at FROM pending_notifications")
        return len(waiting) == 5 and all(r["digest"] == "daily" for r in waiting)

    await eventually(settled, what="Jana's four and Ivan's fourth waiting for the daily digest")
    notices = await distribution.events("advocacy.distribution.notification.requested.v1", at_least=3)
    assert {(n["subject"], n["data"]["digest"]) for n in notices} == {("adv-ivan-009", "immediate")}
    notified = {i for n in notices for i in n["data"]["item_ids"]}
    postponed = {r["item_id"] for r in waiting if r["advocate_id"] == "adv-ivan-009"}
    assert len(notified) == 3 and len(postponed) == 1  # over the cap: the fourth waits for the digest
    assert notified | postponed == {f"item-news-000{n}" for n in range(4)}
    assert sorted((r["advocate_id"], r["digest"]) for r in waiting) == [("adv-ivan-009", "daily")] + [("adv-jana-010", "daily")] * 4
    assert all(r["due_at"].hour == distribution.settings.digest_hour_utc for r in waiting)
