"""GET /api/me/feed: the signed-in person's feed, newest first, a page at a time, each item
with its suggested post per network counted as that network counts it — over real HTTP,
Kafka and Postgres, signed in with the session's test issuer."""

import asyncpg

from harness.kafka import eventually
from schemas import curation
from schemas.consent import Purpose
from schemas.directory import Network
from schemas.networks import LIMITS, tracked_link, weighted_length
from services.distribution import store

ANNA, BERT, CLARA = "adv-anna-feed", "adv-bert-feed", "adv-clara-feed"
ITEM, NEWER = "item-feed-plant-01", "item-feed-solar-02"
DISTRIBUTED = "advocacy.distribution.item.distributed.v2"
CONTENT = {"title": "Our new plant", "summary": "It runs on sun.", "image_url": "https://example.org/plant.jpg",
           "disclosure": "#employee", "campaign_id": "camp-spring-01",
           "share_texts": {"x": "Our new plant 工場 runs on sun ☀️", "linkedin": "We opened a plant in Leipzig."}}


async def people_in_the_audience(distribution, *people: tuple[str, dict]) -> None:
    for advocate, profile in people:
        await distribution.join(advocate, **profile)
        await distribution.consent(advocate, Purpose.RECEIVE_CONTENT)

    async def projected() -> bool:
        return (await distribution.count("people") == len(people)
                and await distribution.count("consents") == len(people))

    await eventually(projected, what="people and their consents projected")


async def published(distribution, *items: tuple[str, dict]) -> None:
    for item_id, content in items:
        await distribution.publish(item_id, **content)
    ids = {item_id for item_id, _ in items}
    await distribution.until_emitted(lambda e: e["type"] == DISTRIBUTED and e["subject"] in ids, len(ids),
                                     what="the items distributed", topic=distribution.topics.items)


async def test_each_item_comes_with_its_post_for_each_network_the_person_named_counted_as_that_network_counts(
        distribution):
    await people_in_the_audience(distribution, (ANNA, {"networks": ["x", "linkedin"]}))
    await published(distribution, (ITEM, CONTENT))

    [entry] = (await distribution.feed(ANNA))["items"]
    assert {k: entry[k] for k in ("item_id", "title", "summary", "source_url", "image_url", "campaign_id", "language",
                                  "disclosure", "editable")} == {
        "item_id": ITEM, "title": "Our new plant", "summary": "It runs on sun.",
        "source_url": "https://example.org/news/1?ref=home", "image_url": "https://example.org/plant.jpg",
        "campaign_id": "camp-spring-01", "language": "de", "disclosure": "#employee", "editable": True}
    x, linkedin = entry["posts"]  # in the order she named them, and only those
    assert (x["network"], linkedin["network"]) == ("x", "linkedin")
    assert x["text"] == "Our new plant 工場 runs on sun ☀️"
    assert x["post"].startswith("Our new plant 工場 runs on sun ☀️\n#employee\n" + distribution.settings.public_base_url)
    assert x["max_length"] == 280 and linkedin["max_length"] == 3000 and x["fits"] and linkedin["fits"]
    assert (x["share_intent"], x["intent_carries_text"]) == (True, True)
    assert (linkedin["share_intent"], linkedin["intent_carries_text"]) == (True, False)  # the app copies the text

    # The lengths are those of the real posts, whose tracked links are as long as the stand-in.
    for suggested in (x, linkedin):
        share = await distribution.shared(ANNA, ITEM, suggested["network"])
        assert share["post"].startswith(suggested["text"] + "\n#employee\n")
        assert len(share["post"]) == len(suggested["post"])
        assert weighted_length(Network(suggested["network"]), share["post"]) == suggested["length"]
    assert x["length"] == len(x["post"]) + 2  # X weighs each of the two CJK characters 2


async def test_a_person_who_named_no_network_gets_a_post_for_every_network_and_whether_it_has_a_share_intent(
        distribution):
    await people_in_the_audience(distribution, (BERT, {}))
    await published(distribution, (ITEM, {**CONTENT, "share_texts": {}}))

    [entry] = (await distribution.feed(BERT))["items"]
    posts = {p["network"]: p for p in entry["posts"]}
    assert list(posts) == [n.value for n in Network]
    assert {n for n, p in posts.items() if p["share_intent"]} == {"linkedin", "x", "xing", "facebook", "bluesky"}
    assert {n for n, p in posts.items() if p["intent_carries_text"]} == {"x", "bluesky"}
    assert {p["text"] for p in posts.values()} == {"Our new plant"}  # no suggested text: the title
    assert all(p["max_length"] == LIMITS[Network(n)].max_chars for n, p in posts.items())


async def test_what_the_feed_says_fits_is_what_a_share_is_checked_against(distribution):
    await people_in_the_audience(distribution, (ANNA, {"networks": ["x"]}))
    long_one, short_one = "item-feed-long-001", "item-feed-short-01"
    await published(distribution, (long_one, {"share_texts": {"x": "a" * 270}, "disclosure": "#employee"}),
                    (short_one, {"share_texts": {"x": "a" * 200}, "disclosure": "#employee"}))

    posts = {e["item_id"]: e["posts"][0] for e in (await distribution.feed(ANNA))["items"]}
    assert not posts[long_one]["fits"] and posts[long_one]["length"] > 280
    assert posts[short_one]["fits"]
    refused = await distribution.share(ANNA, long_one, "x")
    assert (refused.status_code, refused.json()["reason"]) == (422, "text_too_long")
    assert (await distribution.share(ANNA, short_one, "x")).status_code == 201


async def test_an_item_edited_after_publication_is_counted_again(distribution):
    await people_in_the_audience(distribution, (ANNA, {"networks": ["bluesky"]}))
    await published(distribution, (ITEM, {"share_texts": {"bluesky": "short"}}))
    before = (await distribution.feed(ANNA))["items"][0]["posts"][0]
    edited = distribution.published(ITEM, share_texts={"bluesky": "a much longer text than before"})
    await distribution.send_to(distribution.topics.curation_events, curation.ItemUpdated(
        source="/advocacy/curation", subject=ITEM, data=edited.data))

    async def counted_again() -> bool:
        after = (await distribution.feed(ANNA))["items"][0]["posts"][0]
        return after["text"] == "a much longer text than before" and after["length"] == before["length"] + 25

    await eventually(counted_again, what="the edited text counted")


async def test_lengths_counted_with_another_link_than_todays_are_not_taken(distribution):
    await people_in_the_audience(distribution, (ANNA, {}))
    await published(distribution, (ITEM, {}))
    conn = await asyncpg.connect(distribution.settings.database_url)
    try:
        [(_, [stored]), (_, [moved])] = [await store.feed_page(conn, ANNA, None, 10, tracked_link(base)) for base in (
            distribution.settings.public_base_url, "https://links.example.com")]  # PUBLIC_BASE_URL changed since
    finally:
        await conn.close()
    assert stored.lengths is not None and set(stored.lengths) == {n.value for n in Network}
    assert moved.lengths is None  # the feed counts those posts again, with the link they will carry


async def test_the_feed_comes_newest_first_a_page_at_a_time_and_ties_neither_repeat_nor_vanish(distribution):
    await distribution.join(ANNA)
    await eventually(lambda: _counted(distribution, "people", 1), what="Anna in the directory")
    items = [f"item-feed-page-{n:02d}" for n in range(7)]
    await published(distribution, *[(item, {}) for item in items])
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT)  # all seven arrive at once: one delivery time
    await eventually(lambda: _counted(distribution, "feed", 7), what="the backfill")

    seen, cursor, pages = [], None, 0
    while True:
        page = await distribution.feed(ANNA, limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [entry["item_id"] for entry in page["items"]]
        pages += 1
        if pages == 1:  # a newer item meanwhile belongs on the first page, not on the ones that follow
            await published(distribution, (NEWER, {}))
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == sorted(items, reverse=True) and pages == 3
    assert [e["item_id"] for e in (await distribution.feed(ANNA, limit=1))["items"]] == [NEWER]


async def test_each_person_sees_only_their_own_feed_and_a_stranger_an_empty_one(distribution):
    await people_in_the_audience(distribution, (ANNA, {"languages": ["de"]}), (BERT, {"languages": ["fr"]}))
    await distribution.join(CLARA)  # in the directory, but she has not said yes
    await published(distribution, (ITEM, {"language": "de"}), ("item-feed-french-1", {"language": "fr"}))

    assert [e["item_id"] for e in (await distribution.feed(ANNA))["items"]] == [ITEM]
    assert [e["item_id"] for e in (await distribution.feed(BERT))["items"]] == ["item-feed-french-1"]
    empty = {"items": [], "next_cursor": None}
    assert await distribution.feed(CLARA) == empty
    assert await distribution.feed("adv-never-joined") == empty  # nobody can tell who is in the directory


async def test_a_retracted_item_and_a_withdrawal_take_items_out_of_the_feed(distribution):
    await people_in_the_audience(distribution, (ANNA, {}))
    await published(distribution, (ITEM, {}), (NEWER, {}))
    await distribution.send_to(distribution.topics.curation_events, curation.ItemRetracted(
        source="/advocacy/curation", subject=ITEM,
        data=curation.RetractedItem(item_id=ITEM, actor="editor-01", reason="outdated figures")))

    async def feed_of(*expected: str) -> bool:
        return [e["item_id"] for e in (await distribution.feed(ANNA))["items"]] == list(expected)

    await eventually(lambda: feed_of(NEWER), what="the retracted item gone")
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT, valid=False)
    await eventually(lambda: feed_of(), what="the feed emptied")


async def test_the_feed_needs_a_valid_sign_in_and_a_cursor_it_gave_out(distribution):
    for headers in ({}, {"Authorization": "Bearer not-a-token"},
                    {"Authorization": f"Bearer {distribution.issuer.tampered_token(sub=ANNA)}"},
                    {"Authorization": f"Bearer {distribution.issuer.token(ANNA, exp=1)}"}):
        response = await distribution.call("GET", "/api/me/feed", headers=headers)
        assert response.status_code == 401 and response.json()["reason"] == "unauthenticated"
        assert response.headers["www-authenticate"].startswith("Bearer")
    response = await distribution.as_person(ANNA, "GET", "/api/me/feed?cursor=bm90LW91cnM")
    assert (response.status_code, response.json()["reason"]) == (400, "invalid_cursor")
    response = await distribution.as_person(ANNA, "GET", "/api/me/feed?limit=0")
    assert (response.status_code, response.json()["reason"]) == (422, "invalid_request")


async def _counted(distribution, table: str, expected: int) -> bool:
    return await distribution.count(table) == expected
