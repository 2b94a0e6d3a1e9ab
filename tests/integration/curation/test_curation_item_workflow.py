"""An item's life on the real stack, a content system sending the editors' commands on Kafka
and approvers signing in over HTTP: draft, review, four-eyes approval, publication with
everything distribution needs, a revision after publication, retraction with a reason."""

from schemas import curation as c
from tests.integration.curation.curation_rig import APPROVER, about, command, content, rejections
from tests.integration.rig import NOW

ITEM = "item-plant-0001"


async def test_an_item_goes_from_draft_to_published_then_revised_and_retracted(curation):
    async with curation.serving():
        await curation.send(command(c.DraftItem, ITEM, "editor-a", content=content()),
                            command(c.SubmitItem, ITEM, "editor-a"))
        await curation.approve_once_in_review(ITEM, "editor-b")
        await curation.send(command(c.PublishItem, ITEM, "editor-b"),
                            command(c.EditItem, ITEM, "editor-a", content=content(title="Our new plant opened")))
        await curation.until("SELECT revision IS NOT NULL FROM items WHERE id = $1", True, ITEM)
        assert (await curation.approve(ITEM, "editor-c")).status_code == 200
        await curation.send(command(c.RetractItem, ITEM, "editor-c", reason="Figures were outdated"))
        events = await curation.events(at_least=8)

    assert about(events, ITEM) == ["drafted", "submitted", "approved", "published", "revision.proposed",
                                   "revision.approved", "updated", "retracted"]
    _, submitted, approved, published, proposed, revised, updated, retracted = events
    assert (submitted.data.actor, submitted.data.status) == ("editor-a", c.ItemStatus.IN_REVIEW)
    assert (approved.data.actor, approved.data.status) == ("editor-b", c.ItemStatus.APPROVED)
    # Everything distribution needs travels with the event.
    assert published.data == c.PublishedItem(item_id=ITEM, content=content(), published_at=NOW)
    assert (proposed.data.actor, proposed.data.fields) == ("editor-a", [c.ReviewedField.TITLE])
    assert (revised.data.actor, revised.data.fields) == ("editor-c", [c.ReviewedField.TITLE])
    assert updated.data.content.title == "Our new plant opened"
    assert updated.data.published_at == NOW
    assert (retracted.data.reason, retracted.data.actor) == ("Figures were outdated", "editor-c")
    # The chain of events is traceable to the commands that caused them, from Kafka or HTTP.
    commands = await curation.audited_commands(ITEM)
    assert [e.causationid for e in events] == [commands[n] for n in (0, 1, 2, 3, 4, 5, 5, 6)]
    [row] = await curation.fetch("SELECT status, authors FROM items WHERE id = $1", ITEM)
    assert (row["status"], row["authors"]) == ("retracted", ["editor-a"])


async def test_the_author_cannot_approve_their_own_item_but_someone_else_can(curation):
    async with curation.serving():
        await curation.send(command(c.DraftItem, ITEM, "editor-a", content=content()),
                            command(c.SubmitItem, ITEM, "editor-a"))
        await curation.until("SELECT status FROM items WHERE id = $1", "in_review", ITEM)
        own = await curation.approve(ITEM, "editor-a")
        assert (own.status_code, own.json()["reason"]) == (403, "four_eyes_violation")
        assert (await curation.approve(ITEM, "editor-b")).status_code == 200
        events = await curation.events(at_least=3)

    assert about(events, ITEM) == ["drafted", "submitted", "approved"]


async def test_an_edit_in_review_sends_the_item_back_to_draft_and_the_editor_joins_the_authors(curation):
    async with curation.serving():
        await curation.send(command(c.DraftItem, ITEM, "editor-a", content=content()),
                            command(c.SubmitItem, ITEM, "editor-a"),
                            command(c.EditItem, ITEM, "editor-b", content=content(summary="Better")),
                            command(c.SubmitItem, ITEM, "editor-a"))
        events = await curation.events(at_least=4)
        approval_by_editor = await curation.approve(ITEM, "editor-b")

    assert about(events, ITEM) == ["drafted", "submitted", "edited", "submitted"]
    assert events[2].data.status == c.ItemStatus.DRAFT
    assert (approval_by_editor.status_code, approval_by_editor.json()["reason"]) == (403, "four_eyes_violation")


async def test_a_step_from_the_wrong_status_and_a_step_on_no_item_are_rejected(curation):
    early_publish = command(c.PublishItem, ITEM, "editor-b")
    second_draft = command(c.DraftItem, ITEM, "editor-b", content=content())
    ghost = command(c.SubmitItem, "item-nothing-here", "editor-a")
    async with curation.serving():
        await curation.send(command(c.DraftItem, ITEM, "editor-a", content=content()),
                            early_publish, second_draft, ghost)
        events = await curation.events(at_least=4)
        early_approval = await curation.approve(ITEM, "editor-b")

    assert rejections(events) == {
        early_publish.id: "transition_not_allowed", second_draft.id: "item_exists", ghost.id: "unknown_item",
    }
    assert (early_approval.status_code, early_approval.json()["reason"]) == (409, "transition_not_allowed")
    rejected = next(e for e in events if isinstance(e, c.CurationCommandRejected) and e.data.command_id == early_publish.id)
    assert (rejected.subject, rejected.data.command_type) == (ITEM, early_publish.type)
    assert rejected.data.detail == "cannot publish an item that is draft"
    [row] = await curation.fetch("SELECT status FROM items WHERE id = $1", ITEM)
    assert row["status"] == "draft"


async def test_a_published_items_url_cannot_be_changed(curation):
    repoint = command(c.EditItem, ITEM, "editor-a", content=content(source_url="https://example.com/elsewhere"))
    async with curation.serving():
        await curation.send(command(c.DraftItem, ITEM, "editor-a", content=content()),
                            command(c.SubmitItem, ITEM, "editor-a"))
        await curation.approve_once_in_review(ITEM)
        await curation.send(command(c.PublishItem, ITEM, "editor-b"), repoint)
        events = await curation.events(at_least=5)
        read = await curation.as_("editor-b", APPROVER, "GET", f"/api/items/{ITEM}")

    assert about(events, ITEM) == ["drafted", "submitted", "approved", "published", "rejected"]
    assert rejections(events) == {repoint.id: "source_url_locked"}
    assert (read.json()["status"], read.json()["content"]["source_url"]) == ("published", "https://example.com/news/plant")


async def test_a_refusal_in_a_batch_of_commands_leaves_every_other_command_applied_once(curation):
    """Kafka commands of a batch run first without a savepoint each; the refusal among them
    undoes that whole transaction, and the batch runs again, each command in its own savepoint
    (rejections.py): the accepted ones have one effect, one event and one audit entry each."""
    first, second = "item-batch-0001", "item-batch-0002"
    duplicate = command(c.DraftItem, first, "editor-b", content=content(title="Another"))
    async with curation.serving():
        await curation.send(command(c.DraftItem, first, "editor-a", content=content()), duplicate,
                            command(c.DraftItem, second, "editor-a", content=content()),
                            command(c.SubmitItem, second, "editor-a"))
        events = await curation.events(at_least=4)

    assert rejections(events) == {duplicate.id: "item_exists"}
    assert about(events, first) == ["drafted", "rejected"]
    assert about(events, second) == ["drafted", "submitted"]
    assert len(await curation.audited_commands(first)) == 1 and len(await curation.audited_commands(second)) == 2
    rows = await curation.fetch("SELECT id, status, content->>'title' AS title FROM items ORDER BY id")
    assert [tuple(r) for r in rows] == [(first, "draft", "Our new plant opens"), (second, "in_review", "Our new plant opens")]
