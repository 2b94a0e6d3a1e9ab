"""Publication → audience: targeting AND active receive_content consent AND language AND
interests; feed entries for exactly those people, and a summary for partners with the
audience size, or "fewer than k" below K_ANONYMITY (ADR 0018)."""

from datetime import UTC, datetime

import asyncpg

from harness.kafka import eventually
from schemas.consent import Purpose
from services.distribution import store

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

    [summary] = await distribution.events("advocacy.distribution.item.distributed.v2")
    assert await feed_of(distribution, ITEM) == {"adv-anna-001", "adv-bert-002"}
    # Two people, fewer than k: partners learn that much, not the number (review S10).
    assert summary["subject"] == ITEM
    assert "audience_size" not in summary["data"]  # null, left out on the wire
    assert (summary["data"]["audience_below_k"], summary["data"]["k"]) == (True, 5)


async def test_an_audience_below_k_is_told_as_fewer_than_k_and_from_k_people_up_as_its_size(distribution):
    """The narrow audience of review S10 (the one Finnish speaker in Legal): 0 and 1 look the
    same to a partner. From k people on, the size is told as it is."""
    k = distribution.settings.k_anonymity
    people = [f"adv-wide-{n:04d}" for n in range(k)]
    await distribution.join("adv-lone-0001", languages=["fi"], org_unit="Legal", location="Oslo")
    await distribution.join("adv-lone-0002", languages=["fi"], org_unit="Legal", location="Oslo")  # says no
    for person in people:
        await distribution.join(person, languages=["de"], org_unit="Sales")
    for person in ("adv-lone-0001", *people):
        await distribution.consent(person, Purpose.RECEIVE_CONTENT)

    async def projected() -> bool:
        return await distribution.count("consents") == k + 1 and await distribution.count("people") == k + 2

    await eventually(projected, what="people and consents projected")
    narrow = {"org_units": ["Legal"], "locations": ["Oslo"], "languages": ["fi"]}
    await distribution.publish("item-for-one-001", language="fi", audience=narrow)
    await distribution.publish("item-for-none-01", language="fi", audience={**narrow, "locations": ["Bergen"]})
    await distribution.publish("item-for-wide-01", audience={"org_units": ["Sales"]})
    told = {e["subject"]: e["data"] for e in await distribution.events(
        "advocacy.distribution.item.distributed.v2", at_least=3)}
    assert await feed_of(distribution, "item-for-one-001") == {"adv-lone-0001"}
    assert len(await feed_of(distribution, "item-for-wide-01")) == k
    for below in ("item-for-one-001", "item-for-none-01"):  # one yes, or nobody: the same answer
        assert (told[below].get("audience_size"), told[below]["audience_below_k"], told[below]["k"]) == (None, True, k)
    assert (told["item-for-wide-01"]["audience_size"], told["item-for-wide-01"]["audience_below_k"]) == (k, False)


async def test_people_who_get_an_item_after_publication_are_told_partners_in_steps_of_at_least_k(distribution):
    """Observed by a partner: an audience of 0 at publication, then 20 people got the item by
    backfill and nothing ever said so. Now its growth is told, once k more people have it:
    no told difference is about fewer than k people (ADR 0022)."""
    k = distribution.settings.k_anonymity
    people = [f"adv-late-{n:04d}" for n in range(2 * k)]
    for person in people:
        await distribution.join(person, languages=["de"])

    async def joined() -> bool:
        return await distribution.count("people") == len(people)

    await eventually(joined, what="people projected")
    await distribution.publish("item-late-0001")  # before anyone said yes
    [at_publication] = await distribution.events("advocacy.distribution.item.distributed.v2")

    async def reached(n: int) -> None:
        async def fed() -> bool:
            return len(await feed_of(distribution, "item-late-0001")) == n
        await eventually(fed, what=f"{n} feed entries")

    for person in people[:k - 1]:
        await distribution.consent(person, Purpose.RECEIVE_CONTENT)
    await reached(k - 1)
    await distribution.consent(people[k - 1], Purpose.RECEIVE_CONTENT)
    [first] = await distribution.events("advocacy.distribution.item.audience.grew.v1")
    for person in people[k:]:
        await distribution.consent(person, Purpose.RECEIVE_CONTENT)
    growth = await distribution.events("advocacy.distribution.item.audience.grew.v1", at_least=2)

    assert at_publication["data"]["audience_below_k"] is True
    assert first["subject"] == "item-late-0001"
    assert [(g["data"]["audience_size"], g["data"]["added"], g["data"]["k"]) for g in growth] == [
        (k, k, k), (2 * k, k, k)]  # never k - 1 people, nor any step smaller than k


async def test_a_fan_out_is_planned_for_its_own_audience_however_often_its_connection_ran_it(distribution):
    """Postgres plans a prepared statement for any parameters from its sixth run on, when
    that generic plan looks no dearer; the fan-out's guesses an audience of one and probes the
    consents person by person (ADR 0049). On a connection told to take the generic plan where
    it may (as Postgres decides to by itself after five fan-outs to large audiences), seven
    fan-outs: seven plans of their own."""
    await distribution.join("adv-olga-015", languages=["de"])
    await distribution.consent("adv-olga-015", Purpose.RECEIVE_CONTENT)

    async def projected() -> bool:
        return await distribution.count("consents") == 1 and await distribution.count("people") == 1

    await eventually(projected, what="Olga projected")
    conn = await asyncpg.connect(distribution.settings.database_url)
    try:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        for n in range(7):
            now = datetime.now(UTC)
            rolled_back = conn.transaction()
            await rolled_back.start()
            assert await store.fan_out(conn, f"item-plan-000{n}", {"language": "de"}, now, now, now, new=True) == 1
            await rolled_back.rollback()
        plans = await conn.fetchrow("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                                    "WHERE statement = $1", store._FAN_OUT_NEW)
    finally:
        await conn.close()
    assert plans is not None, "the fan-out's statement is not prepared on this connection"
    assert tuple(plans) == (0, 7)


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
        waiting[:] = await distribution.fetch("SELECT advocate_id, item_id, digest, due_at FROM waiting_notifications")
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


async def test_reach_a_pod_of_the_version_before_logged_per_item_is_counted_too(distribution):
    """During a rolling upgrade, pods from before migration 008 log a backfill's reach as a
    row per item (reach_added); the new pods log one list per backfill (reach_lists). The
    audience-growth schedule adds up both, each once."""
    k = distribution.settings.k_anonymity
    await distribution.publish("item-upgrade-0001")  # nobody in the directory: told "fewer than k"
    await distribution.events("advocacy.distribution.item.distributed.v2")
    await distribution.fetch("INSERT INTO reach_added (item_id, added) VALUES ('item-upgrade-0001', $1)", k - 1)
    await distribution.fetch("INSERT INTO reach_lists (items) VALUES ('{item-upgrade-0001}')")
    [grew] = await distribution.events("advocacy.distribution.item.audience.grew.v1")
    assert (grew["subject"], grew["data"]["audience_size"], grew["data"]["added"]) == ("item-upgrade-0001", k, k)
    assert await distribution.count("reach_added") == 0 and await distribution.count("reach_lists") == 0


async def test_a_yes_with_many_items_active_notifies_the_newest_up_to_the_cap_and_the_rest_in_the_digest(distribution):
    """A backfill queues at most the daily cap for now (the newest items) and the rest for the
    daily digest, which the notifier did one entry at a time, after claiming each."""
    cap = distribution.settings.notification_daily_cap
    await distribution.join("adv-lena-012", languages=["de"], digest="immediate")
    await eventually(lambda: _has(distribution, "people", 1), what="Lena projected")
    items = [f"item-many-{n:04d}" for n in range(cap + 2)]
    for item in items:  # published one after another: the last is the newest
        await distribution.publish(item)
    await distribution.events("advocacy.distribution.item.distributed.v2", at_least=len(items))
    await distribution.consent("adv-lena-012", Purpose.RECEIVE_CONTENT)

    notices = await distribution.events("advocacy.distribution.notification.requested.v1", at_least=cap)
    await eventually(lambda: _has(distribution, "feed", len(items)), what="Lena's feed")
    waiting = await distribution.fetch("SELECT item_id, digest, due_at FROM waiting_notifications")
    assert sorted(i for n in notices for i in n["data"]["item_ids"]) == items[-cap:]
    assert sorted(r["item_id"] for r in waiting) == items[:-cap]
    assert all(r["digest"] == "daily" and r["due_at"].hour == distribution.settings.digest_hour_utc for r in waiting)


async def _has(distribution, relation: str, n: int) -> bool:
    return await distribution.count(relation) == n
