"""The audit trail over real HTTP: every accepted editor's and approver's command, from the
front door or from a content system on Kafka, recorded with who, what, when, on what and
through which door; never the content; read newest first by editors and privacy officers."""

from datetime import timedelta

from schemas import curation as c
from tests.integration.curation.curation_rig import APPROVER, EDITOR, command, content
from tests.integration.rig import NOW

ADA, BEN, OFFICER = "editor-ada", "editor-ben", "officer-olga"
TITLE, NOTE, REASON = "A title only the item holds", "A note only the event holds", "A reason only the event holds"


async def test_every_accepted_command_is_recorded_with_who_what_when_and_the_door_but_never_content(curation_api):
    api = curation_api
    await api.as_(ADA, EDITOR, "POST", "/api/items",
                  {"item_id": "item-audited-01", "content": content(title=TITLE).model_dump(mode="json")})
    api.clock.advance(minutes=5)
    await api.as_(ADA, EDITOR, "POST", "/api/items/item-audited-01/submit")
    own = await api.approve("item-audited-01", ADA)  # refused: leaves no entry
    assert own.status_code == 403
    api.clock.advance(minutes=5)
    await api.as_(BEN, APPROVER, "POST", "/api/items/item-audited-01/send-back", {"note": NOTE})
    await api.send(command(c.CreateCampaign, "campaign-audited", "cms-newsroom", name="Plant", starts_on="2026-11-01",
                           ends_on="2026-12-31", owner="cms-newsroom"))
    await api.until("SELECT count(*) FROM audit", 4)
    api.clock.advance(minutes=5)
    await api.as_(BEN, ("editor", "approver"), "POST", "/api/items/item-audited-01/retract", {"reason": REASON})

    trail = await api.as_(OFFICER, ("privacy_officer",), "GET", "/api/audit")
    assert trail.status_code == 200
    entries = trail.json()["items"]
    assert [(e["at"], e["actor"], e["action"], e["subject_kind"], e["subject_id"], e["channel"]) for e in entries] == [
        (at(15), BEN, "item.retract", "item", "item-audited-01", "api"),
        (at(10), "cms-newsroom", "campaign.create", "campaign", "campaign-audited", "kafka"),
        (at(10), BEN, "item.send_back", "item", "item-audited-01", "api"),
        (at(5), ADA, "item.submit", "item", "item-audited-01", "api"),
        (at(0), ADA, "item.draft", "item", "item-audited-01", "api"),
    ]
    assert not any(text in trail.text for text in (TITLE, NOTE, REASON))
    # Each entry names its command, which the command's events name as their cause.
    events = await api.until_emitted(lambda e: e["subject"] == "item-audited-01", 4, what="the item's events")
    assert [e["causationid"] for e in events] == [e["command_id"] for e in reversed(entries) if e["subject_id"] ==
                                                   "item-audited-01"]

    editors_view = await api.as_(ADA, EDITOR, "GET", "/api/audit?subject=item-audited-01&limit=2")
    assert [e["action"] for e in editors_view.json()["items"]] == ["item.retract", "item.send_back"]
    older = await api.as_(ADA, EDITOR, "GET", f"/api/audit?subject=item-audited-01&cursor={editors_view.json()['next_cursor']}")
    assert [e["action"] for e in older.json()["items"]] == ["item.submit", "item.draft"]
    assert older.json()["next_cursor"] is None
    by_ben = await api.as_(OFFICER, ("privacy_officer",), "GET", f"/api/audit?actor={BEN}")
    assert [e["action"] for e in by_ben.json()["items"]] == ["item.retract", "item.send_back"]
    approvers_only = await api.as_(BEN, APPROVER, "GET", "/api/audit")
    assert (approvers_only.status_code, approvers_only.json()["reason"]) == (403, "not_permitted")


def at(minutes: int) -> str:
    return (NOW + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
