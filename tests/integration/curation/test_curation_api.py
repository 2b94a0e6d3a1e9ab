"""The editors' and approvers' front door over real HTTP, on the real stack: an item drafted,
edited and submitted by one signed-in person, approved and published by another; four eyes
whatever roles a person holds; an approval of a version nobody reviewed; sending back."""

import re
from typing import Any

from tests.integration.curation.curation_rig import APPROVER, EDITOR, content
from tests.integration.rig import NOW

BOTH = ("editor", "approver")
ADA, BEN, CY, DEE = "editor-ada", "editor-ben", "editor-cy", "editor-dee"


def body(**changes: Any) -> dict[str, Any]:
    return content(**changes).model_dump(mode="json")


async def in_review(api, author: str = ADA, roles: tuple[str, ...] = EDITOR) -> str:
    """An item drafted and submitted over HTTP by `author`; its id."""
    drafted = await api.as_(author, roles, "POST", "/api/items", {"content": body()})
    assert drafted.status_code == 201, drafted.text
    item_id = drafted.json()["item_id"]
    assert (await api.as_(author, roles, "POST", f"/api/items/{item_id}/submit")).status_code == 200
    return item_id


async def events_about(api, item_id: str, at_least: int) -> list[dict[str, Any]]:
    return await api.until_emitted(lambda e: e["subject"] == item_id, at_least, what=f"events about {item_id}")


async def test_an_item_drafted_edited_and_submitted_by_one_person_is_approved_and_published_by_another(curation_api):
    api = curation_api
    drafted = await api.as_(ADA, EDITOR, "POST", "/api/items", {"content": body()})
    assert drafted.status_code == 201
    item = drafted.json()
    item_id = item["item_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", item_id)  # the server made the id
    assert (item["status"], item["version"], item["drafted_by"], item["authors"]) == ("draft", 1, ADA, [ADA])
    assert (item["content"], item["approval"], item["revision"], item["title_from_text"]) == (body(), None, None, False)

    edited = await api.as_(ADA, EDITOR, "PUT", f"/api/items/{item_id}",
                           {"content": body(summary="It opened today in Bern."), "version": 1})
    assert edited.status_code == 200
    assert (edited.json()["version"], edited.json()["edited_by"]) == (2, [ADA])
    submitted = await api.as_(ADA, EDITOR, "POST", f"/api/items/{item_id}/submit")
    assert (submitted.json()["status"], submitted.json()["submitted_by"]) == ("in_review", ADA)
    assert submitted.json()["approval"] == {"awaiting": "item", "not_by": [ADA], "you_may_approve": False}

    queue = await api.as_(BEN, APPROVER, "GET", "/api/review-queue")
    [entry] = queue.json()["items"]
    assert {k: entry[k] for k in ("item_id", "awaiting", "status", "version", "drafted_by", "edited_by",
                                  "submitted_by", "you_may_approve")} == {
        "item_id": item_id, "awaiting": "item", "status": "in_review", "version": 2, "drafted_by": ADA,
        "edited_by": [ADA], "submitted_by": ADA, "you_may_approve": True}

    approved = await api.as_(BEN, APPROVER, "POST", f"/api/items/{item_id}/approve", {"version": 2})
    assert (approved.status_code, approved.json()["status"], approved.json()["approval"]) == (200, "approved", None)
    published = await api.as_(BEN, APPROVER, "POST", f"/api/items/{item_id}/publish")
    assert (published.json()["status"], published.json()["published_at"]) == ("published", NOW.isoformat().replace("+00:00", "Z"))
    read = await api.as_(ADA, EDITOR, "GET", f"/api/items/{item_id}")
    assert read.json() == published.json()
    assert (await api.as_(BEN, APPROVER, "GET", "/api/review-queue")).json()["items"] == []

    events = await events_about(api, item_id, at_least=5)
    assert [(e["type"].split(".")[-2], e["data"].get("actor")) for e in events] == [
        ("drafted", ADA), ("edited", ADA), ("submitted", ADA), ("approved", BEN), ("published", None)]
    assert {e["source"] for e in events} == {api.settings.source}
    assert events[-1]["data"]["content"]["summary"] == "It opened today in Bern."


async def test_nobody_who_drafted_edited_or_submitted_an_item_may_approve_or_send_it_back_whatever_their_roles(
        curation_api):
    api = curation_api
    drafted = await api.as_(ADA, BOTH, "POST", "/api/items", {"content": body()})
    item_id = drafted.json()["item_id"]
    await api.as_(CY, BOTH, "PUT", f"/api/items/{item_id}", {"content": body(summary="Better")})
    submitted = await api.as_(DEE, BOTH, "POST", f"/api/items/{item_id}/submit")
    assert submitted.json()["approval"] == {"awaiting": "item", "not_by": sorted([ADA, CY, DEE]),
                                            "you_may_approve": False}
    version = submitted.json()["version"]

    for author in (ADA, CY, DEE):
        approval = await api.as_(author, BOTH, "POST", f"/api/items/{item_id}/approve", {"version": version})
        send_back = await api.as_(author, BOTH, "POST", f"/api/items/{item_id}/send-back", {"note": "Mine"})
        for refused in (approval, send_back):
            assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["reason"] == "four_eyes_violation"
        [entry] = (await api.as_(author, BOTH, "GET", "/api/review-queue")).json()["items"]
        assert entry["you_may_approve"] is False
    [entry] = (await api.as_(BEN, APPROVER, "GET", "/api/review-queue")).json()["items"]
    assert entry["you_may_approve"] is True

    assert (await api.as_(BEN, APPROVER, "POST", f"/api/items/{item_id}/approve",
                          {"version": version})).status_code == 200
    types = [e["type"].split(".")[-2] for e in await events_about(api, item_id, at_least=4)]
    assert types == ["drafted", "edited", "submitted", "approved"]  # the refusals left no event
    assert await api.fetchval("SELECT count(*) FROM audit WHERE action = 'item.approve'") == 1


async def test_an_approval_of_a_version_that_is_no_longer_the_current_one_is_refused(curation_api):
    api = curation_api
    item_id = await in_review(api)
    seen = (await api.as_(BEN, APPROVER, "GET", f"/api/items/{item_id}")).json()["version"]
    # Meanwhile the editor changes the text and submits again: what the approver read is gone.
    await api.as_(ADA, EDITOR, "PUT", f"/api/items/{item_id}", {"content": body(summary="Not what Ben read")})
    await api.as_(ADA, EDITOR, "POST", f"/api/items/{item_id}/submit")

    stale = await api.as_(BEN, APPROVER, "POST", f"/api/items/{item_id}/approve", {"version": seen})
    assert (stale.status_code, stale.json()["reason"]) == (409, "item_changed")
    assert (await api.fetchval("SELECT status FROM items WHERE id = $1", item_id)) == "in_review"
    assert (await api.approve(item_id, BEN)).json()["status"] == "approved"


async def test_an_editors_edit_of_a_version_no_longer_current_is_refused_and_changes_nothing(curation_api):
    api = curation_api
    item_id = (await api.as_(ADA, EDITOR, "POST", "/api/items", {"content": body()})).json()["item_id"]
    assert (await api.as_(CY, EDITOR, "PUT", f"/api/items/{item_id}",
                          {"content": body(title="Cy's title"), "version": 1})).status_code == 200
    lost = await api.as_(ADA, EDITOR, "PUT", f"/api/items/{item_id}", {"content": body(title="Ada's"), "version": 1})
    assert (lost.status_code, lost.json()["reason"]) == (409, "item_changed")
    assert (await api.as_(ADA, EDITOR, "GET", f"/api/items/{item_id}")).json()["content"]["title"] == "Cy's title"


async def test_a_version_is_a_json_integer_not_a_boolean_or_a_string(curation_api):
    """pydantic's lax mode read `true` as version 1: an approval naming no version approved it."""
    api = curation_api
    item_id = await in_review(api)
    for version in (True, "1", 1.5, 2**31):
        approval = await api.as_(BEN, APPROVER, "POST", f"/api/items/{item_id}/approve", {"version": version})
        assert (approval.status_code, approval.json()["reason"]) == (422, "invalid_request"), version
        edit = await api.as_(ADA, EDITOR, "PUT", f"/api/items/{item_id}", {"content": body(), "version": version})
        assert (edit.status_code, edit.json()["reason"]) == (422, "invalid_request"), version
    assert (await api.as_(ADA, EDITOR, "GET", f"/api/items/{item_id}")).json()["status"] == "in_review"


async def test_a_nul_anywhere_in_a_command_is_refused_as_an_invalid_request_and_stores_nothing(curation_api):
    """Postgres text cannot hold U+0000: it was a 500 (a new user)."""
    api, nul = curation_api, "a\u0000b"
    drafts = [{"content": {**body(), "title": nul}}, {"content": {**body(), "summary": nul}},
              {"content": {**body(), "audience": {"topics": [nul]}}}, {"content": {**body(), "disclosure": nul}},
              {"content": {**body(), "share_texts": {"linkedin": nul}}}]
    for draft in drafts:
        answer = await api.as_(ADA, EDITOR, "POST", "/api/items", draft)
        assert (answer.status_code, answer.json()["reason"]) == (422, "invalid_request"), draft
    item_id = await in_review(api)
    note = await api.as_(BEN, APPROVER, "POST", f"/api/items/{item_id}/send-back", {"note": nul})
    assert (note.status_code, note.json()["reason"]) == (422, "invalid_request")
    [item] = await api.fetch("SELECT status FROM items")
    assert item["status"] == "in_review"


async def test_an_approver_sends_an_item_back_to_draft_with_a_note_the_editors_read(curation_api):
    api = curation_api
    item_id = await in_review(api)
    blank = await api.as_(BEN, APPROVER, "POST", f"/api/items/{item_id}/send-back", {"note": "  "})
    assert (blank.status_code, blank.json()["reason"]) == (422, "missing_field")

    sent_back = await api.as_(BEN, APPROVER, "POST", f"/api/items/{item_id}/send-back",
                              {"note": "Name the plant's town"})
    assert sent_back.status_code == 200
    item = (await api.as_(ADA, EDITOR, "GET", f"/api/items/{item_id}")).json()
    assert (item["status"], item["submitted_by"], item["approval"]) == ("draft", None, None)
    assert item["sent_back"] == {"note": "Name the plant's town", "by": BEN, "revision": False}
    resubmitted = await api.as_(ADA, EDITOR, "POST", f"/api/items/{item_id}/submit")
    assert (resubmitted.json()["status"], resubmitted.json()["sent_back"]) == ("in_review", None)

    [sent] = [e for e in await events_about(api, item_id, at_least=4) if e["type"] == "advocacy.curation.item.sent_back.v1"]
    assert sent["data"] == {"item_id": item_id, "actor": BEN, "status": "draft", "note": "Name the plant's town",
                            "revision": False}


async def test_an_approved_item_with_a_publication_time_ahead_is_scheduled_and_an_item_can_be_retracted(curation_api):
    api = curation_api
    drafted = await api.as_(ADA, EDITOR, "POST", "/api/items",
                            {"item_id": "item-later-0001", "content": body(publish_at=NOW.replace(hour=15).isoformat())})
    assert drafted.json()["item_id"] == "item-later-0001"
    await api.as_(ADA, EDITOR, "POST", "/api/items/item-later-0001/submit")
    await api.approve("item-later-0001", BEN)
    early = await api.as_(ADA, EDITOR, "POST", "/api/items/item-later-0001/publish")
    assert (early.status_code, early.json()["reason"]) == (403, "not_permitted")  # releasing is the approver's
    scheduled = await api.as_(BEN, APPROVER, "POST", "/api/items/item-later-0001/publish")
    assert (scheduled.json()["status"], scheduled.json()["published_at"]) == ("scheduled", None)

    # Taking it down needs no second person: its editor may, at once.
    unreasoned = await api.as_(ADA, EDITOR, "POST", "/api/items/item-later-0001/retract", {"reason": ""})
    assert (unreasoned.status_code, unreasoned.json()["reason"]) == (422, "missing_field")
    retracted = await api.as_(ADA, EDITOR, "POST", "/api/items/item-later-0001/retract", {"reason": "Event moved"})
    assert retracted.json()["status"] == "retracted"
    again = await api.as_(BEN, APPROVER, "POST", "/api/items/item-later-0001/retract", {"reason": "Twice"})
    assert (again.status_code, again.json()["reason"]) == (409, "transition_not_allowed")
    types = [e["type"].split(".")[-2] for e in await events_about(api, "item-later-0001", at_least=5)]
    assert types == ["drafted", "submitted", "approved", "scheduled", "retracted"]


async def test_items_are_listed_newest_first_a_page_at_a_time_and_filtered_by_status(curation_api):
    api = curation_api
    ids = []
    for n in range(5):
        drafted = await api.as_(ADA, EDITOR, "POST", "/api/items", {"item_id": f"item-list-{n:04d}", "content": body(
            source_url=f"https://example.com/news/{n}", title=f"News {n}")})
        ids.append(drafted.json()["item_id"])
    await api.as_(ADA, EDITOR, "POST", f"/api/items/{ids[1]}/submit")
    await api.as_(ADA, EDITOR, "POST", f"/api/items/{ids[3]}/submit")

    seen, cursor = [], None
    while True:
        page = (await api.as_(BEN, APPROVER, "GET", f"/api/items?limit=2{f'&cursor={cursor}' if cursor else ''}")).json()
        seen += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    assert [line["item_id"] for line in seen] == ids[::-1]
    assert seen[-1] | {"created_at": None, "updated_at": None} == {
        "item_id": ids[0], "status": "draft", "title": "News 0", "campaign_id": None, "version": 1,
        "revision_pending": False, "title_from_text": False, "created_at": None, "updated_at": None}
    in_review = (await api.as_(BEN, APPROVER, "GET", "/api/items?status=in_review")).json()
    assert [line["item_id"] for line in in_review["items"]] == [ids[3], ids[1]]

    unknown = await api.as_(BEN, APPROVER, "GET", "/api/items/item-nothing-here")
    assert (unknown.status_code, unknown.json()["reason"]) == (404, "unknown_item")
    bad_cursor = await api.as_(BEN, APPROVER, "GET", "/api/items?cursor=not-ours")
    assert (bad_cursor.status_code, bad_cursor.json()["reason"]) == (400, "invalid_cursor")
    bad_status = await api.as_(BEN, APPROVER, "GET", "/api/items?status=lost")
    assert (bad_status.status_code, bad_status.json()["reason"]) == (422, "invalid_request")
