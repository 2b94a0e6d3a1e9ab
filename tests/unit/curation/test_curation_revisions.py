"""Four eyes after publication: a change of a published item's words, suggested texts,
disclosure or edit lock waits as a revision for someone who did not write it; what needs
no review (expiry, image, hashtags …) applies at once (ADR 0013)."""

from datetime import UTC, datetime, timedelta

import pytest

from schemas.commands import Rejected
from schemas.curation import ItemContent, ReviewedField
from schemas.curation import ItemStatus as S
from services.curation import domain

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LINK = "https://go.example.com/r/" + "x" * 16


def content(**changes: object) -> ItemContent:
    fields = {"source_url": "https://example.com/news/1", "title": "Our new plant opens",
              "summary": "It opens today.", "language": "en", "disclosure": "#employee",
              "share_texts": {"linkedin": "Proud of this!"}, "hashtags": ["energy"]}
    return ItemContent(**{**fields, **changes})


def published(**changes: object) -> domain.Item:
    item = domain.submit(domain.draft("item-0001", content(**changes), "editor-a", LINK), "editor-a", True)
    return domain.release(domain.approve(item, "editor-b"), NOW)


def edit(item: domain.Item, actor: str, **changes: object) -> domain.Item:
    return domain.edit(item, actor, content(**changes), LINK, disclosure_required=True)


@pytest.mark.parametrize(("field", "value"), [
    (ReviewedField.TITLE, "Our new plant opened"),
    (ReviewedField.SUMMARY, "It opened yesterday."),
    (ReviewedField.SHARE_TEXTS, {"linkedin": "So proud of this!"}),
    (ReviewedField.DISCLOSURE, "#werbung #employee"),
    (ReviewedField.EDITABLE, False),
])
def test_a_change_of_a_reviewed_field_after_publication_waits_as_a_revision(field, value):
    item = published()
    revised = edit(item, "editor-c", **{field.value: value})
    assert revised.content == item.content  # nothing changed yet for advocates
    assert revised.revision is not None and revised.revision.fields(revised.content) == [field]
    assert revised.revision.authors == ("editor-c",)
    assert revised.version == item.version + 1 and revised.awaiting_approval


@pytest.mark.parametrize("changes", [
    {"expire_at": NOW + timedelta(days=30)}, {"image_url": "https://example.com/plant.jpg"},
    {"hashtags": ["energy", "bern"]}, {"topics": ["careers"]}, {"audience": {"roles": ["employee"]}},
])
def test_a_change_of_nothing_reviewed_applies_at_once(changes):
    item = published()
    edited = edit(item, "editor-c", **changes)
    assert edited.content == content(**changes)
    assert edited.revision is None and not edited.awaiting_approval
    assert edited.version == item.version + 1


def test_an_edit_of_both_applies_what_needs_no_review_and_holds_the_rest():
    edited = edit(published(), "editor-c", title="Our new plant opened", hashtags=["bern"])
    assert (edited.content.title, edited.content.hashtags) == ("Our new plant opens", ["bern"])
    assert edited.revision is not None and edited.revision.content.title == "Our new plant opened"


def test_the_author_of_a_revision_cannot_approve_it_but_the_items_first_author_can():
    revised = edit(published(), "editor-c", title="Our new plant opened")
    with pytest.raises(Rejected, match="four_eyes_violation"):
        domain.approve(revised, "editor-c")
    approved = domain.approve(revised, "editor-a", seen_version=revised.version)
    assert (approved.status, approved.content.title, approved.revision) == (S.PUBLISHED, "Our new plant opened", None)
    assert approved.published_at == NOW and "editor-c" in approved.authors and approved.edited_by == ("editor-c",)


def test_approving_a_revision_keeps_what_applied_at_once_meanwhile():
    revised = edit(published(), "editor-c", title="Our new plant opened")
    # Someone moves the expiry later, sending the published title (not the revision's).
    later = NOW + timedelta(days=60)
    moved = edit(revised, "editor-d", expire_at=later)
    assert moved.revision == revised.revision and moved.content.expire_at == later
    approved = domain.approve(moved, "editor-b", seen_version=moved.version)
    assert (approved.content.title, approved.content.expire_at) == ("Our new plant opened", later)


def test_a_second_edit_replaces_the_revision_and_both_writers_are_its_authors():
    revised = edit(published(), "editor-c", title="Our new plant opened")
    replaced = edit(revised, "editor-d", title="Our new plant has opened")
    assert replaced.revision is not None and replaced.revision.authors == ("editor-c", "editor-d")
    assert replaced.revision.content.title == "Our new plant has opened"
    for author in ("editor-c", "editor-d"):
        with pytest.raises(Rejected, match="four_eyes_violation"):
            domain.approve(replaced, author)
    # What the approver saw was the first revision: its approval is refused, not applied to the second.
    with pytest.raises(Rejected, match="item_changed"):
        domain.approve(replaced, "editor-b", seen_version=revised.version)


def test_an_edit_that_proposes_the_pending_revision_again_changes_nothing():
    revised = edit(published(), "editor-c", title="Our new plant opened")
    again = edit(revised, "editor-d", title="Our new plant opened")
    assert again == revised


def test_a_revision_cannot_drop_a_mandatory_disclosure_even_with_a_second_person():
    with pytest.raises(Rejected) as refused:
        edit(published(), "editor-c", disclosure=None)
    assert refused.value.reason == "missing_field"


def test_a_revision_sent_back_is_dropped_and_the_published_item_stays_as_it_was():
    item = published()
    revised = edit(item, "editor-c", summary="It opened yesterday.")
    with pytest.raises(Rejected, match="four_eyes_violation"):
        domain.send_back(revised, "editor-c", "Mine")
    sent_back = domain.send_back(revised, "editor-b", "Keep today's wording")
    assert (sent_back.status, sent_back.content, sent_back.revision) == (S.PUBLISHED, item.content, None)
    assert sent_back.sent_back == domain.SentBack("Keep today's wording", "editor-b", revision=True)


def test_a_published_item_without_a_revision_has_nothing_to_approve():
    with pytest.raises(Rejected, match="transition_not_allowed"):
        domain.approve(published(), "editor-c")


def test_retracting_an_item_drops_its_revision():
    revised = edit(published(), "editor-c", title="Our new plant opened")
    retracted = domain.retract(revised, "Outdated")
    assert (retracted.status, retracted.revision, retracted.awaiting_approval) == (S.RETRACTED, None, False)


def test_who_may_approve_what_awaits_approval():
    revised = edit(published(), "editor-c", title="Our new plant opened")
    assert revised.approvers_excluded() == {"editor-c"}
    assert revised.may_approve("editor-a") and not revised.may_approve("editor-c")
    assert not published().may_approve("editor-c")  # nothing awaits approval
