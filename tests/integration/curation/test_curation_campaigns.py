"""Campaigns on the real stack: created and changed with events; an item belongs to at most
one campaign, which must exist, and its publication names it."""

from datetime import date

from harness.kafka import eventually
from schemas import curation as c
from tests.integration.curation.curation_rig import about, command, content, rejections

CAMPAIGN = "campaign-plant-1"
ITEM = "item-campaign-01"


def details(**changes) -> dict:
    return {"name": "Plant opening", "goal": "Reach engineers", "starts_on": date(2026, 11, 1),
            "ends_on": date(2026, 12, 31), "topics": ["energy"], "owner": "editor-o", **changes}


async def test_a_campaign_is_created_changed_and_carried_by_its_items_publication(curation):
    duplicate = command(c.CreateCampaign, CAMPAIGN, **details(name="Copy"))
    unknown = command(c.ChangeCampaign, "campaign-nowhere", **details())
    async with curation.serving():
        await curation.send(command(c.CreateCampaign, CAMPAIGN, **details()))
        await eventually(lambda: _has(curation, "campaigns", CAMPAIGN), what="the campaign")
        await curation.send(
            duplicate, unknown, command(c.ChangeCampaign, CAMPAIGN, **details(ends_on=date(2027, 1, 31))),
            command(c.DraftItem, ITEM, "editor-a", content=content(campaign_id=CAMPAIGN)),
            command(c.SubmitItem, ITEM, "editor-a"))
        await curation.approve_once_in_review(ITEM, "editor-b")
        await curation.send(command(c.PublishItem, ITEM, "editor-b"))
        events = await curation.events(at_least=8)

    assert about(events, CAMPAIGN) == ["created", "rejected", "changed"]
    created, changed = (e for e in events if isinstance(e, c.CampaignCreated | c.CampaignChanged))
    assert created.data == c.Campaign(campaign_id=CAMPAIGN, **details())
    assert changed.data.ends_on == date(2027, 1, 31)
    assert rejections(events) == {duplicate.id: "campaign_exists", unknown.id: "unknown_campaign"}
    [published] = [e for e in events if isinstance(e, c.ItemPublished)]
    assert published.data.content.campaign_id == CAMPAIGN


async def _has(curation, table: str, row_id: str) -> bool:
    return bool(await curation.fetch(f"SELECT 1 FROM {table} WHERE id = $1", row_id))
