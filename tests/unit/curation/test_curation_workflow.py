"""The item workflow: draft → in review → approved → scheduled or published → expired or
retracted; four eyes; edits before publication send the item back to draft; sending back.
(Edits after publication: test_curation_revisions.py.)"""

from datetime import UTC, datetime, timedelta

import pytest

from schemas.commands import Rejected
from schemas.curation import ItemContent
from schemas.curation import ItemStatus as S
from services.curation import domain
from services.curation.domain import Step, next_status

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LINK = "https://go.example.com/r/" + "x" * 16  # as long as a tracked link


def content(**changes: object) -> ItemContent:
    fields = {"source_url": "https://example.com/news/1", "title": "Our new plant opens",
              "summary": "It opens today.", "language": "en", "disclosure": "#employee",
              "share_texts": {"linkedin": "Proud of this!"}}
    return ItemContent(**{**fields, **changes})


def approved_item(**changes: object) -> domain.Item:
    item = domain.submit(domain.draft("item-0001", content(**changes), "editor-a", LINK), "editor-a", True)
    return domain.approve(item, "editor-b")


def test_an_item_goes_from_draft_through_review_and_approval_to_published():
    item = domain.draft("item-0001", content(), "editor-a", LINK)
    assert item.status is S.DRAFT
    item = domain.submit(item, "editor-a", disclosure_required=True)
    assert item.status is S.IN_REVIEW
    item = domain.approve(item, "editor-b")
    assert item.status is S.APPROVED
    item = domain.release(item, NOW)
    assert (item.status, item.published_at) == (S.PUBLISHED, NOW)


def test_release_schedules_an_item_whose_publish_at_is_ahead():
    item = domain.release(approved_item(publish_at=NOW + timedelta(hours=1)), NOW)
    assert (item.status, item.published_at) == (S.SCHEDULED, None)


@pytest.mark.parametrize("author", ["editor-a", "editor-c"])
def test_whoever_drafted_edited_or_submitted_an_item_may_not_approve_it(author):
    item = domain.draft("item-0001", content(), "editor-a", LINK)
    item = domain.edit(item, "editor-c", content(title="Edited"), LINK, True)
    item = domain.submit(item, "editor-a", True)
    with pytest.raises(Rejected) as refused:
        domain.approve(item, author)
    assert refused.value.reason == "four_eyes_violation"


def test_a_feed_draft_is_authored_by_whoever_submits_it():
    item = domain.submit(domain.draft("item-0001", content(), author=None, tracked_link=LINK), "editor-a", True)
    with pytest.raises(Rejected, match="four_eyes_violation"):
        domain.approve(item, "editor-a")
    assert domain.approve(item, "editor-b").status is S.APPROVED


@pytest.mark.parametrize("status", [S.IN_REVIEW, S.APPROVED, S.SCHEDULED])
def test_an_edit_before_publication_sends_the_item_back_to_draft(status):
    assert next_status(status, Step.EDIT) is S.DRAFT


def test_an_edit_after_publication_keeps_the_item_published():
    published = domain.release(approved_item(), NOW)
    edited = domain.edit(published, "editor-c", content(hashtags=["energy"]), LINK, True)
    assert (edited.status, edited.published_at, edited.content.hashtags) == (S.PUBLISHED, NOW, ["energy"])


def test_a_published_items_url_cannot_change_its_posted_links_point_to_it():
    published = domain.release(approved_item(), NOW)
    with pytest.raises(Rejected) as refused:
        domain.edit(published, "editor-c", content(source_url="https://example.com/news/other"), LINK, True)
    assert refused.value.reason == "source_url_locked"
    # Before publication nothing was posted: the URL may change (and the item goes back to draft).
    edited = domain.edit(approved_item(), "editor-c", content(source_url="https://example.com/x"), LINK, True)
    assert edited.status is S.DRAFT


@pytest.mark.parametrize("status", [s for s in S if s is not S.RETRACTED])
def test_an_item_can_be_retracted_from_any_status_but_retracted(status):
    assert next_status(status, Step.RETRACT) is S.RETRACTED


@pytest.mark.parametrize(("status", "step"), [
    (S.DRAFT, Step.APPROVE), (S.DRAFT, Step.PUBLISH), (S.IN_REVIEW, Step.PUBLISH), (S.IN_REVIEW, Step.SUBMIT),
    (S.APPROVED, Step.APPROVE), (S.PUBLISHED, Step.SUBMIT), (S.EXPIRED, Step.EDIT), (S.RETRACTED, Step.EDIT),
    (S.RETRACTED, Step.RETRACT), (S.EXPIRED, Step.PUBLISH), (S.DRAFT, Step.EXPIRE),
])
def test_a_step_the_workflow_does_not_allow_is_rejected(status, step):
    with pytest.raises(Rejected) as refused:
        next_status(status, step)
    assert refused.value.reason == "transition_not_allowed"


def test_every_status_but_the_final_ones_has_a_way_forward():
    reachable_from = {status for table in domain.TRANSITIONS.values() for status in table}
    assert reachable_from == set(S) - {S.RETRACTED}


def test_an_approver_who_did_not_write_it_sends_an_item_in_review_back_to_draft_with_a_note():
    in_review = domain.submit(domain.draft("item-0001", content(), "editor-a", LINK), "editor-a", True)
    sent_back = domain.send_back(in_review, "editor-b", "Name the plant's town")
    assert (sent_back.status, sent_back.submitted_by) == (S.DRAFT, None)
    assert sent_back.sent_back == domain.SentBack("Name the plant's town", "editor-b", revision=False)
    assert sent_back.version == in_review.version + 1
    # Submitted again, the note has been dealt with.
    assert domain.submit(sent_back, "editor-a", True).sent_back is None


def test_sending_back_needs_a_note_an_item_in_review_and_a_second_person():
    in_review = domain.submit(domain.draft("item-0001", content(), "editor-a", LINK), "editor-a", True)
    for item, approver, note, reason in [
        (in_review, "editor-b", " ", "missing_field"),
        (in_review, "editor-b", "n" * 2001, "too_long"),
        (in_review, "editor-a", "My own", "four_eyes_violation"),
        (approved_item(), "editor-c", "Too late", "transition_not_allowed"),
    ]:
        with pytest.raises(Rejected) as refused:
            domain.send_back(item, approver, note)
        assert refused.value.reason == reason


def test_an_approval_must_name_the_version_its_approver_saw():
    in_review = domain.submit(domain.draft("item-0001", content(), "editor-a", LINK), "editor-a", True)
    edited = domain.submit(domain.edit(in_review, "editor-a", content(summary="Changed"), LINK, True), "editor-a", True)
    assert edited.version == in_review.version + 1
    with pytest.raises(Rejected, match="item_changed"):
        domain.approve(edited, "editor-b", seen_version=in_review.version)
    assert domain.approve(edited, "editor-b", seen_version=edited.version).status is S.APPROVED


def test_a_retraction_needs_a_reason():
    with pytest.raises(Rejected, match="missing_field"):
        domain.retract(approved_item(), "  ")
    assert domain.retract(approved_item(), "Outdated figures").status is S.RETRACTED


def test_an_item_whose_expiry_has_passed_is_not_released():
    item = approved_item(publish_at=NOW - timedelta(days=2), expire_at=NOW - timedelta(days=1))
    with pytest.raises(Rejected, match="already_expired"):
        domain.release(item, NOW)
