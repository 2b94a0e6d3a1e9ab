"""An item's life: the workflow from draft to retraction, and four eyes. Pure: no I/O.

Each step takes an `Item` and returns the changed one, or raises `Rejected`. Editing
before publication sends the item back to draft, so whatever is approved is exactly what
was reviewed; editing a published item keeps it published (an update event follows),
but not its URL.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from schemas.commands import Rejected
from schemas.curation import ItemContent, Reason
from schemas.curation import ItemStatus as S
from services.curation import validation


class Step(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    APPROVE = "approve"
    SCHEDULE = "schedule"
    PUBLISH = "publish"
    EXPIRE = "expire"
    RETRACT = "retract"


TRANSITIONS: dict[Step, dict[S, S]] = {
    Step.EDIT: {S.DRAFT: S.DRAFT, S.IN_REVIEW: S.DRAFT, S.APPROVED: S.DRAFT, S.SCHEDULED: S.DRAFT,
                S.PUBLISHED: S.PUBLISHED},
    Step.SUBMIT: {S.DRAFT: S.IN_REVIEW},
    Step.APPROVE: {S.IN_REVIEW: S.APPROVED},
    Step.SCHEDULE: {S.APPROVED: S.SCHEDULED},
    Step.PUBLISH: {S.APPROVED: S.PUBLISHED, S.SCHEDULED: S.PUBLISHED},
    Step.EXPIRE: {S.SCHEDULED: S.EXPIRED, S.PUBLISHED: S.EXPIRED},  # scheduled: its time passed unpublished
    Step.RETRACT: {status: S.RETRACTED for status in S if status is not S.RETRACTED},
}


def next_status(current: S, step: Step) -> S:
    try:
        return TRANSITIONS[step][current]
    except KeyError:
        raise Rejected(Reason.TRANSITION_NOT_ALLOWED, f"cannot {step.value} an item that is {current.value}") from None


@dataclass(frozen=True)
class Item:
    id: str
    status: S
    content: ItemContent
    # Everyone who drafted, edited or submitted it: none of them may approve it.
    authors: frozenset[str]
    published_at: datetime | None = None
    # A feed entry without a title got one made from its text: an editor should write one.
    title_from_text: bool = False


def draft(item_id: str, content: ItemContent, author: str | None, tracked_link: str,
          title_from_text: bool = False) -> Item:
    """A new draft; a feed entry has no author until an editor submits it. `tracked_link`:
    see `validation.check_content`."""
    validation.check_content(content, tracked_link)
    return Item(item_id, S.DRAFT, content, frozenset({author} if author else ()), title_from_text=title_from_text)


def edit(item: Item, actor: str, content: ItemContent, tracked_link: str) -> Item:
    status = next_status(item.status, Step.EDIT)
    if item.status is S.PUBLISHED and content.source_url != item.content.source_url:
        # Advocates have posted tracked links that resolve to this URL: changing it would
        # repoint every one of them, unreviewed. Retract and draft a new item instead.
        raise Rejected(Reason.SOURCE_URL_LOCKED, "a published item's source_url cannot change")
    validation.check_content(content, tracked_link)
    return replace(item, status=status, content=content, authors=item.authors | {actor},
                   title_from_text=item.title_from_text and content.title == item.content.title)


def submit(item: Item, actor: str, disclosure_required: bool) -> Item:
    status = next_status(item.status, Step.SUBMIT)
    validation.check_ready_for_review(item.content, disclosure_required)
    return replace(item, status=status, authors=item.authors | {actor})


def approve(item: Item, approver: str) -> Item:
    status = next_status(item.status, Step.APPROVE)
    if approver in item.authors:
        raise Rejected(Reason.FOUR_EYES_VIOLATION, "the approver must not have drafted, edited or submitted the item")
    return replace(item, status=status)


def release(item: Item, now: datetime) -> Item:
    """Publish an approved item now, or schedule it if its `publish_at` is ahead."""
    ahead = item.content.publish_at is not None and item.content.publish_at > now
    status = next_status(item.status, Step.SCHEDULE if ahead else Step.PUBLISH)
    validation.check_not_expired(item.content, now)
    return replace(item, status=status, published_at=None if ahead else now)


def retract(item: Item, reason: str) -> Item:
    status = next_status(item.status, Step.RETRACT)
    validation.check_required(reason=reason)
    validation.check_length("reason", reason)
    return replace(item, status=status)
