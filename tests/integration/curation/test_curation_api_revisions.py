"""Four eyes after publication, over real HTTP and Kafka: a change of a published item's
text, suggested texts, disclosure or edit lock waits as a revision until someone who did not
write it approves it (then `item.updated` goes out) or sends it back; what needs no review
applies at once; a content system's edits on Kafka wait for a signed-in approver too."""

from datetime import timedelta
from typing import Any

from schemas import curation as c
from tests.integration.curation.curation_rig import APPROVER, EDITOR, command, content, rejections
from tests.integration.rig import NOW

BOTH = ("editor", "approver")
ADA, BEN, CY = "editor-ada", "editor-ben", "editor-cy"


def body(**changes: Any) -> dict[str, Any]:
    return content(**changes).model_dump(mode="json")


async def published(api, item_id: str) -> dict[str, Any]:
    """Drafted and submitted by Ada, approved and published by Ben, all over HTTP."""
    await api.as_(ADA, EDITOR, "POST", "/api/items", {"item_id": item_id, "content": body()})
    await api.as_(ADA, EDITOR, "POST", f"/api/items/{item_id}/submit")
    await api.approve(item_id, BEN)
    release = await api.as_(BEN, APPROVER, "POST", f"/api/items/{item_id}/publish")
    assert release.json()["status"] == "published", release.text
    return release.json()


async def types_about(api, item_id: str, at_least: int) -> list[dict[str, Any]]:
    return await api.until_emitted(lambda e: e["subject"] == item_id, at_least, what=f"events about {item_id}")


def short(event: dict[str, Any]) -> str:
    """`revision.proposed` for advocacy.curation.item.revision.proposed.v1, `command.rejected` …"""
    return event["type"].removeprefix("advocacy.curation.").removeprefix("item.").removesuffix(".v1")


async def test_a_text_change_after_publication_waits_for_a_second_person_while_the_rest_applies_at_once(curation_api):
    api, item_id = curation_api, "item-revised-001"
    before = await published(api, item_id)
    later = (NOW + timedelta(days=30)).isoformat()
    edited = await api.as_(ADA, BOTH, "PUT", f"/api/items/{item_id}",
                           {"content": body(title="Our new plant opened", expire_at=later)})
    assert edited.status_code == 200
    item = edited.json()
    assert (item["status"], item["content"]["title"]) == ("published", "Our new plant opens")  # not yet
    assert item["content"]["expire_at"] == later.replace("+00:00", "Z")  # at once
    assert item["revision"] == {"proposed": {"title": "Our new plant opened", "summary": "Today.",
                                             "share_texts": before["content"]["share_texts"],
                                             "disclosure": "#employee", "editable": False},
                                "fields": ["title"], "authors": [ADA]}
    assert item["approval"] == {"awaiting": "revision", "not_by": [ADA], "you_may_approve": False}

    [entry] = (await api.as_(CY, APPROVER, "GET", "/api/review-queue")).json()["items"]
    assert {k: entry[k] for k in ("item_id", "awaiting", "status", "title", "fields", "edited_by",
                                  "you_may_approve")} == {
        "item_id": item_id, "awaiting": "revision", "status": "published", "title": "Our new plant opened",
        "fields": ["title"], "edited_by": [ADA], "you_may_approve": True}
    own = await api.as_(ADA, BOTH, "POST", f"/api/items/{item_id}/approve", {"version": item["version"]})
    assert (own.status_code, own.json()["reason"]) == (403, "four_eyes_violation")
    # Ben approved the item itself, but did not write this change: he may approve it.
    approved = await api.as_(BEN, APPROVER, "POST", f"/api/items/{item_id}/approve", {"version": item["version"]})
    assert approved.status_code == 200
    assert (approved.json()["content"]["title"], approved.json()["revision"]) == ("Our new plant opened", None)
    assert approved.json()["content"]["expire_at"] == item["content"]["expire_at"]

    events = await types_about(api, item_id, at_least=8)
    assert [short(e) for e in events] == ["drafted", "submitted", "approved", "published", "revision.proposed",
                                          "updated", "revision.approved", "updated"]
    first_update, last_update = events[5]["data"]["content"], events[7]["data"]["content"]
    assert (first_update["title"], first_update["expire_at"]) == ("Our new plant opens", item["content"]["expire_at"])
    assert last_update["title"] == "Our new plant opened"
    assert (events[4]["data"], events[6]["data"]) == ({"item_id": item_id, "actor": ADA, "fields": ["title"]},
                                                     {"item_id": item_id, "actor": BEN, "fields": ["title"]})


async def test_the_disclosure_cannot_be_dropped_and_the_edit_lock_not_lifted_without_a_second_person(curation_api):
    api, item_id = curation_api, "item-revised-002"
    before = await published(api, item_id)
    dropped = await api.as_(ADA, EDITOR, "PUT", f"/api/items/{item_id}", {"content": body(disclosure=None)})
    assert (dropped.status_code, dropped.json()["reason"]) == (422, "missing_field")
    unchanged = (await api.as_(ADA, EDITOR, "GET", f"/api/items/{item_id}")).json()
    assert unchanged["version"] == before["version"] and unchanged["revision"] is None

    unlocked = await api.as_(ADA, EDITOR, "PUT", f"/api/items/{item_id}", {"content": body(editable=True)})
    assert unlocked.json()["content"]["editable"] is False
    assert unlocked.json()["revision"]["fields"] == ["editable"]
    sent_back = await api.as_(CY, APPROVER, "POST", f"/api/items/{item_id}/send-back",
                              {"note": "Advocates must post this as written"})
    item = sent_back.json()
    assert (item["status"], item["content"], item["revision"], item["approval"]) == (
        "published", before["content"], None, None)
    assert item["sent_back"] == {"note": "Advocates must post this as written", "by": CY, "revision": True}

    events = await types_about(api, item_id, at_least=6)
    assert [short(e) for e in events][4:] == ["revision.proposed", "sent_back"]
    assert events[5]["data"] | {"note": None} == {"item_id": item_id, "actor": CY, "status": "published",
                                                   "note": None, "revision": True}


async def test_an_edit_that_needs_no_review_applies_at_once_and_goes_out_as_an_update(curation_api):
    api, item_id = curation_api, "item-revised-003"
    await published(api, item_id)
    edited = await api.as_(ADA, EDITOR, "PUT", f"/api/items/{item_id}",
                           {"content": body(hashtags=["bern"], image_url="https://example.com/plant.jpg")})
    assert (edited.json()["content"]["hashtags"], edited.json()["revision"]) == (["bern"], None)
    assert (await api.as_(BEN, APPROVER, "GET", "/api/review-queue")).json()["items"] == []
    [update] = [e for e in await types_about(api, item_id, at_least=5) if short(e) == "updated"]
    assert update["data"]["content"]["image_url"] == "https://example.com/plant.jpg"


async def test_a_content_systems_change_to_a_published_text_on_kafka_waits_for_a_signed_in_approver(curation_api):
    api, item_id = curation_api, "item-revised-004"
    await published(api, item_id)
    new_texts = {"linkedin": "Our plant is open: come and see!", "x": "Plant open!"}
    cms_edit = command(c.EditItem, item_id, "cms-newsroom", content=content(share_texts=new_texts))
    approval_on_kafka = command(c.ApproveItem, item_id, "editor-ben")
    send_back_on_kafka = command(c.SendBackItem, item_id, "editor-ben", note="No")
    await api.send(cms_edit, approval_on_kafka, send_back_on_kafka)
    events = await types_about(api, item_id, at_least=7)

    assert [short(e) for e in events][4:] == ["revision.proposed", "command.rejected", "command.rejected"]
    assert rejections([c.CurationCommandRejected.model_validate(e) for e in events[5:]]) == {
        approval_on_kafka.id: "sign_in_required", send_back_on_kafka.id: "sign_in_required"}
    item = (await api.as_(BEN, APPROVER, "GET", f"/api/items/{item_id}")).json()
    assert (item["revision"]["authors"], item["content"]["share_texts"]) == (["cms-newsroom"], content().share_texts)
    approved = await api.as_(BEN, APPROVER, "POST", f"/api/items/{item_id}/approve", {"version": item["version"]})
    assert approved.json()["content"]["share_texts"] == new_texts
    trail = (await api.as_(BEN, EDITOR, "GET", f"/api/audit?subject={item_id}")).json()["items"]
    assert [(e["actor"], e["action"], e["channel"]) for e in trail[:2]] == [
        (BEN, "item.approve_revision", "api"), ("cms-newsroom", "item.revise", "kafka")]
