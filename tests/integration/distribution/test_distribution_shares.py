"""Share requests (signed in, over the HTTP API) and the tracked-link redirect, over real
Kafka, Postgres and HTTP."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from harness.kafka import eventually
from schemas.consent import Purpose

ANNA, BERT = "adv-anna-001", "adv-bert-002"
ITEM, LOCKED = "item-plant-0001", "item-locked-002"


async def setup_feed(distribution) -> None:
    for advocate in (ANNA, BERT):
        await distribution.join(advocate, languages=["de"])
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT, Purpose.SCHEDULED_SHARING)
    await distribution.consent(BERT, Purpose.RECEIVE_CONTENT)

    async def projected() -> bool:
        return await distribution.count("consents") == 3 and await distribution.count("people") == 2

    await eventually(projected, what="people and consents projected")
    await distribution.publish(ITEM, campaign_id="camp-spring-01", disclosure="#employee",
                      share_texts={"x": "Our new plant runs on sun"})
    await distribution.publish(LOCKED, editable=False)
    await distribution.publish("item-elsewhere-1", editable=False, language="fr")  # for nobody here
    await distribution.events("advocacy.distribution.item.distributed.v2", at_least=3)


async def test_a_share_gets_a_tracked_link_that_redirects_with_utm_tags_and_counts_the_click(distribution):
    await setup_feed(distribution)
    answered = await distribution.shared(ANNA, ITEM, network="x")
    [created] = await distribution.events("advocacy.distribution.share.created.v1")
    data = created["data"]
    assert {k: answered[k] for k in ("share_id", "tracked_url", "share_intent_url")} == {
        "share_id": data["share_id"], "tracked_url": data["tracked_url"], "share_intent_url": data["share_intent_url"]}
    assert data["text"] == "Our new plant runs on sun" and data["campaign_id"] == "camp-spring-01"
    code = data["tracked_url"].rsplit("/r/", 1)[1]
    assert len(code) >= 16  # 96 random bits, URL-safe
    assert data["share_intent_url"].startswith("https://x.com/intent/post?text=Our%20new%20plant")

    status, headers = await distribution.visit(f"/r/{code}")
    target = urlsplit(headers["location"])
    assert status == 302 and target.netloc == "example.org" and target.path == "/news/1"
    assert parse_qs(target.query) == {"ref": ["home"], "utm_source": ["x"], "utm_medium": ["employee_advocacy"],
                                      "utm_campaign": ["camp-spring-01"], "utm_content": [ITEM]}
    await distribution.visit(f"/r/{code}", user_agent="curl/8.5.0")

    clicks = await distribution.events("advocacy.distribution.link.clicked.v1", at_least=2)
    assert [c["data"]["bot"] for c in clicks] == [False, True]
    assert all(c["subject"] == data["share_id"] and len(c["data"]["visitor"]) == 32 for c in clicks)
    assert "127.0.0.1" not in json.dumps(clicks)

    assert (await distribution.visit("/r/AAAAAAAAAAAAAAAA"))[0] == 404  # only stored codes resolve
    assert (await distribution.visit("/r/https:%2F%2Fevil.example"))[0] == 404  # never an open redirect


async def test_requests_breaking_a_rule_are_refused_with_a_reason_and_leave_nothing(distribution):
    await setup_feed(distribution)
    later = datetime.now(UTC) + timedelta(hours=1)
    refused = [
        (ANNA, "item-unknown-9", {}, 404, "item_not_in_feed"),
        (ANNA, "item-elsewhere-1", {"text": "mine"}, 404, "item_not_in_feed"),  # its rules are not hers to learn
        (ANNA, ITEM, {"network": "bluesky", "text": "x" * 400}, 422, "text_too_long"),
        (ANNA, LOCKED, {"text": "my own words"}, 409, "text_not_editable"),
        (BERT, ITEM, {"scheduled_at": later}, 403, "scheduled_sharing_not_consented"),  # Bert did not allow it
        (ANNA, ITEM, {"scheduled_at": datetime.now(UTC) - timedelta(minutes=1)}, 422, "scheduled_in_the_past"),
        (ANNA, ITEM, {"network": "x", "text": "\ufeffhidden"}, 422, "text_invalid_characters"),
    ]
    for advocate, item, body, status, reason in refused:
        response = await distribution.share(advocate, item, **body)
        assert (response.status_code, response.json()["reason"]) == (status, reason), body
    assert await distribution.count("shares") == 0
    await distribution.shared(ANNA, ITEM)  # its event leaves after any a refusal would have written
    await distribution.events("advocacy.distribution.share.created.v1")
    assert len(await distribution.emitted(lambda e: e["type"].startswith("advocacy.distribution.share"))) == 1


async def test_a_scheduled_share_is_requested_from_connectors_at_its_time_and_retraction_is_requested(distribution):
    await setup_feed(distribution)
    soon = datetime.now(UTC) + timedelta(seconds=1)
    await distribution.shared(ANNA, ITEM, scheduled_at=soon)
    [created] = await distribution.events("advocacy.distribution.share.created.v1")
    [requested] = await distribution.events("advocacy.distribution.share.publish.requested.v1")
    assert requested["subject"] == created["subject"]
    assert requested["data"]["post"].endswith(created["data"]["tracked_url"])
    assert datetime.fromisoformat(requested["time"]) >= soon

    from schemas import curation
    await distribution.send_to(distribution.topics.curation_events, curation.ItemRetracted(
        source="/advocacy/curation", subject=ITEM,
        data=curation.RetractedItem(item_id=ITEM, actor="editor-01", reason="outdated figures")))
    [retraction] = await distribution.events("advocacy.distribution.share.retraction.requested.v1")
    assert retraction["subject"] == created["subject"] and retraction["data"]["reason"] == "item_retracted"
    code = created["data"]["tracked_url"].rsplit("/r/", 1)[1]
    gone = await distribution.call("GET", f"/r/{code}")
    assert (gone.status_code, gone.json()["reason"]) == (410, "item_retracted")
    assert "withdrawn by its publisher" in gone.json()["detail"]
    assert await distribution.fetch("SELECT 1 FROM feed WHERE item_id = $1", ITEM) == []
