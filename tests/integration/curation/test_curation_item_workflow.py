"""An item's life on the real stack: draft, review, four-eyes approval, publication with
everything distribution needs, update after publication, retraction with a reason."""

from schemas import curation as c
from tests.integration.curation.curation_rig import NOW, about, command, content, rejections

ITEM = "item-plant-0001"


async def test_an_item_goes_from_draft_to_published_then_updated_and_retracted(curation):
    steps = [
        command(c.DraftItem, ITEM, "editor-a", content=content()),
        command(c.SubmitItem, ITEM, "editor-a"),
        command(c.ApproveItem, ITEM, "editor-b"),
        command(c.PublishItem, ITEM, "editor-b"),
        command(c.EditItem, ITEM, "editor-a", content=content(title="Our new plant opened")),
        command(c.RetractItem, ITEM, "editor-c", reason="Figures were outdated"),
    ]
    async with curation.build().running():
        await curation.send(*steps)
        events = await curation.events(at_least=6)

    assert about(events, ITEM) == ["drafted", "submitted", "approved", "published", "updated", "retracted"]
    drafted, submitted, approved, published, updated, retracted = events
    assert (submitted.data.actor, submitted.data.status) == ("editor-a", c.ItemStatus.IN_REVIEW)
    assert (approved.data.actor, approved.data.status) == ("editor-b", c.ItemStatus.APPROVED)
    # Everything distribution needs travels with the event.
    assert published.data == c.PublishedItem(item_id=ITEM, content=content(), published_at=NOW)
    assert updated.data.content.title == "Our new plant opened"
    assert updated.data.published_at == NOW
    assert (retracted.data.reason, retracted.data.actor) == ("Figures were outdated", "editor-c")
    # The chain of events is traceable to the commands that caused them.
    assert [e.causationid for e in events] == [s.id for s in steps]
    [row] = await curation.fetch("SELECT status, authors FROM items WHERE id = $1", ITEM)
    assert (row["status"], row["authors"]) == ("retracted", ["editor-a"])


async def test_the_author_cannot_approve_their_own_item_but_someone_else_can(curation):
    own_approval = command(c.ApproveItem, ITEM, "editor-a")
    async with curation.build().running():
        await curation.send(command(c.DraftItem, ITEM, "editor-a", content=content()),
                            command(c.SubmitItem, ITEM, "editor-a"), own_approval,
                            command(c.ApproveItem, ITEM, "editor-b"))
        events = await curation.events(at_least=4)

    assert about(events, ITEM) == ["drafted", "submitted", "rejected", "approved"]
    assert rejections(events) == {own_approval.id: "four_eyes_violation"}


async def test_an_edit_in_review_sends_the_item_back_to_draft_and_the_editor_joins_the_authors(curation):
    approval_by_editor = command(c.ApproveItem, ITEM, "editor-b")
    async with curation.build().running():
        await curation.send(command(c.DraftItem, ITEM, "editor-a", content=content()),
                            command(c.SubmitItem, ITEM, "editor-a"),
                            command(c.EditItem, ITEM, "editor-b", content=content(summary="Better")),
                            command(c.SubmitItem, ITEM, "editor-a"), approval_by_editor)
        events = await curation.events(at_least=5)

    assert about(events, ITEM) == ["drafted", "submitted", "edited", "submitted", "rejected"]
    assert events[2].data.status == c.ItemStatus.DRAFT
    assert rejections(events) == {approval_by_editor.id: "four_eyes_violation"}


async def test_a_step_from_the_wrong_status_and_a_step_on_no_item_are_rejected(curation):
    early_publish = command(c.PublishItem, ITEM, "editor-b")
    early_approval = command(c.ApproveItem, ITEM, "editor-b")
    second_draft = command(c.DraftItem, ITEM, "editor-b", content=content())
    ghost = command(c.SubmitItem, "item-nothing-here", "editor-a")
    async with curation.build().running():
        await curation.send(command(c.DraftItem, ITEM, "editor-a", content=content()),
                            early_publish, early_approval, second_draft, ghost)
        events = await curation.events(at_least=5)

    assert rejections(events) == {
        early_publish.id: "transition_not_allowed", early_approval.id: "transition_not_allowed",
        second_draft.id: "item_exists", ghost.id: "unknown_item",
    }
    rejected = next(e for e in events if isinstance(e, c.CurationCommandRejected) and e.data.command_id == early_publish.id)
    assert (rejected.subject, rejected.data.command_type) == (ITEM, early_publish.type)
    assert rejected.data.detail == "cannot publish an item that is draft"
    [row] = await curation.fetch("SELECT status FROM items WHERE id = $1", ITEM)
    assert row["status"] == "draft"


async def test_a_published_items_url_cannot_be_changed(curation):
    repoint = command(c.EditItem, ITEM, "editor-a", content=content(source_url="https://example.com/elsewhere"))
    async with curation.build().running():
        await curation.send(command(c.DraftItem, ITEM, "editor-a", content=content()),
                            command(c.SubmitItem, ITEM, "editor-a"), command(c.ApproveItem, ITEM, "editor-b"),
                            command(c.PublishItem, ITEM, "editor-b"), repoint)
        events = await curation.events(at_least=5)

    assert about(events, ITEM) == ["drafted", "submitted", "approved", "published", "rejected"]
    assert rejections(events) == {repoint.id: "source_url_locked"}
    [row] = await curation.fetch("SELECT status, source_url FROM items WHERE id = $1", ITEM)
    assert (row["status"], row["source_url"]) == ("published", "https://example.com/news/plant")
