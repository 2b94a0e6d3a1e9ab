"""Campaigns and feed sources over real HTTP, signed in as editors: created, changed, listed
and read; sources registered, polled (with their last poll, last error and refused entries
to show), paused, resumed and removed; each command's event on Kafka."""

from harness.kafka import eventually
from tests.integration.curation.curation_rig import APPROVER, EDITOR

ADA, BEN = "editor-ada", "editor-ben"
PLANT = {"name": "Plant opening", "goal": "Reach engineers", "starts_on": "2026-11-01", "ends_on": "2026-12-31",
         "topics": ["energy"]}


async def test_an_editor_creates_and_changes_campaigns_that_editors_and_approvers_read(curation_api):
    api = curation_api
    created = await api.as_(ADA, EDITOR, "POST", "/api/campaigns", PLANT)
    assert created.status_code == 201
    campaign = created.json()
    campaign_id = campaign["campaign_id"]
    assert {k: campaign[k] for k in (*PLANT, "owner")} == {**PLANT, "owner": ADA}  # the owner defaults to its creator
    # Ben changes it without naming an owner: Ada stays the owner.
    changed = await api.as_(BEN, EDITOR, "PUT", f"/api/campaigns/{campaign_id}", {**PLANT, "ends_on": "2027-01-31"})
    assert (changed.json()["ends_on"], changed.json()["owner"]) == ("2027-01-31", ADA)
    second = await api.as_(BEN, EDITOR, "POST", "/api/campaigns", {**PLANT, "campaign_id": "campaign-hiring", "owner": BEN})
    assert (second.json()["campaign_id"], second.json()["owner"]) == ("campaign-hiring", BEN)

    listed = (await api.as_(BEN, APPROVER, "GET", "/api/campaigns?limit=1")).json()
    assert [c["campaign_id"] for c in listed["items"]] == ["campaign-hiring"] and listed["next_cursor"]
    older = (await api.as_(BEN, APPROVER, "GET", f"/api/campaigns?limit=1&cursor={listed['next_cursor']}")).json()
    assert older == {"items": [changed.json()], "next_cursor": None}
    assert (await api.as_(BEN, APPROVER, "GET", f"/api/campaigns/{campaign_id}")).json() == changed.json()

    for method, path, sent, status, reason in [
        ("POST", "/api/campaigns", {**PLANT, "campaign_id": "campaign-hiring"}, 409, "campaign_exists"),
        ("PUT", "/api/campaigns/campaign-nowhere", PLANT, 404, "unknown_campaign"),
        ("POST", "/api/campaigns", {**PLANT, "ends_on": "2026-10-01"}, 422, "invalid_period"),
        ("POST", "/api/campaigns", {**PLANT, "name": " "}, 422, "missing_field"),
        ("GET", "/api/campaigns/campaign-nowhere", None, 404, "unknown_campaign"),
    ]:
        refused = await api.as_(ADA, EDITOR, method, path, sent)
        assert (refused.status_code, refused.json()["reason"]) == (status, reason), (method, path)
    assert await api.count("campaigns") == 2

    events = await api.until_emitted(lambda e: "campaign" in e["type"], 3, what="campaign events")
    by_campaign: dict[str, list[tuple[str, str]]] = {}
    for e in events:  # in order per campaign (its key's partition); the two may interleave either way
        by_campaign.setdefault(e["subject"], []).append((e["type"].split(".")[-2], e["data"]["owner"]))
    assert by_campaign == {campaign_id: [("created", ADA), ("changed", ADA)], "campaign-hiring": [("created", BEN)]}


def rss(*items: tuple[str, str]) -> bytes:
    body = "".join(f"<item><guid>{guid}</guid><link>{link}</link><title>Entry {guid}</title>"
                   f"<description>About {guid}</description></item>" for guid, link in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>{body}</channel></rss>'.encode()


async def test_an_editor_registers_a_feed_source_sees_its_polls_and_pauses_resumes_and_removes_it(curation_api,
                                                                                                  feed_server):
    api = curation_api
    feed_server.documents["/news.rss"] = (200, rss(("n-1", "https://example.com/a"), ("n-2", "javascript:alert(1)")))
    registered = await api.as_(ADA, EDITOR, "POST", "/api/sources",
                               {"source_id": "source-newsroom", "url": f"{feed_server.base}/news.rss",
                                "language": "de", "topics": ["news"]})
    assert registered.status_code == 201
    assert {k: registered.json()[k] for k in ("source_id", "status", "last_polled_at", "refused_entries")} == {
        "source_id": "source-newsroom", "status": "active", "last_polled_at": None, "refused_entries": 0}

    async def polled() -> dict:
        return (await api.as_(ADA, EDITOR, "GET", "/api/sources/source-newsroom")).json()

    await eventually(lambda: _is_polled(polled), what="the first poll")
    source = await polled()
    assert (source["refused_entries"], source["status"]) == (1, "active")
    assert "n-2" in source["last_error"] and "invalid_url" in source["last_error"]
    assert await api.count("items") == 1  # the good entry, drafted

    paused = await api.as_(ADA, EDITOR, "POST", "/api/sources/source-newsroom/pause")
    assert paused.json()["status"] == "paused"
    resumed = await api.as_(BEN, EDITOR, "POST", "/api/sources/source-newsroom/resume")
    assert resumed.json()["status"] == "active"
    removed = await api.as_(ADA, EDITOR, "DELETE", "/api/sources/source-newsroom")
    assert removed.json() | {"last_polled_at": None} == source | {"status": "removed", "last_polled_at": None}
    listed = (await api.as_(ADA, EDITOR, "GET", "/api/sources")).json()
    assert [s["source_id"] for s in listed["items"]] == ["source-newsroom"]

    for method, path, sent, status, reason in [
        ("POST", "/api/sources/source-newsroom/pause", None, 409, "source_removed"),
        ("POST", "/api/sources/source-nowhere/resume", None, 404, "unknown_source"),
        ("GET", "/api/sources/source-nowhere", None, 404, "unknown_source"),
        ("POST", "/api/sources", {"source_id": "source-newsroom", "url": "https://example.com/feed", "language": "de"},
         409, "source_exists"),
        ("POST", "/api/sources", {"url": "file:///etc/passwd", "language": "de"}, 422, "invalid_url"),
    ]:
        refused = await api.as_(ADA, EDITOR, method, path, sent)
        assert (refused.status_code, refused.json()["reason"]) == (status, reason), (method, path)
    assert await api.count("sources") == 1

    events = await api.until_emitted(lambda e: e["subject"] == "source-newsroom", 4, what="source events")
    assert [(e["type"].split(".")[-2], e["data"].get("actor")) for e in events] == [
        ("registered", None), ("paused", ADA), ("resumed", BEN), ("removed", ADA)]


async def _is_polled(read) -> bool:
    return (await read())["last_polled_at"] is not None
