"""An item's life: the workflow from draft to retraction, and four eyes. Pure: no I/O.

Each step takes an `Item` and returns the changed one, or raises `Rejected`.

- Four eyes: nobody who drafted, edited or submitted an item may approve it or send it
  back. Editing before publication sends the item back to draft, so whatever is approved
  is exactly what was reviewed.
- After publication, an edit that changes a reviewed field (`ReviewedField`: title,
  summary, share texts, disclosure, the `editable` lock) does not apply: it becomes the
  item's pending revision, which someone who did not write it approves or sends back. The
  edit's other fields (expiry, image, hashtags, topics, audience …) apply at once, and the
  URL never changes (ADR 0013).
- Every change of content or of the pending revision raises `version`; an approval names
  the version its approver saw (`item_changed` otherwise), so nobody approves unseen text.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from schemas.commands import Rejected
from schemas.curation import ItemContent, Reason, ReviewedField
from schemas.curation import ItemStatus as S
from services.curation import validation


class Step(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    APPROVE = "approve"
    SEND_BACK = "send back"
    SCHEDULE = "schedule"
    PUBLISH = "publish"
    EXPIRE = "expire"
    RETRACT = "retract"


TRANSITIONS: dict[Step, dict[S, S]] = {
    Step.EDIT: {S.DRAFT: S.DRAFT, S.IN_REVIEW: S.DRAFT, S.APPROVED: S.DRAFT, S.SCHEDULED: S.DRAFT,
                S.PUBLISHED: S.PUBLISHED},
    Step.SUBMIT: {S.DRAFT: S.IN_REVIEW},
    Step.APPROVE: {S.IN_REVIEW: S.APPROVED},
    Step.SEND_BACK: {S.IN_REVIEW: S.DRAFT},
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
class Revision:
    """A change of a published item's reviewed fields, waiting for a second person.
    `content` is the item as its authors wrote it; approval takes its reviewed fields only,
    so fields changed at once meanwhile stay as they are."""

    content: ItemContent
    authors: tuple[str, ...]  # everyone who wrote it, in order; none of them may approve it

    def fields(self, current: ItemContent) -> list[ReviewedField]:
        """The reviewed fields in which this revision differs from `current`."""
        return [field for field in ReviewedField if getattr(self.content, field) != getattr(current, field)]


@dataclass(frozen=True)
class SentBack:
    """The last send-back, kept for the editors until the item is submitted again."""

    note: str
    by: str
    revision: bool  # a published item's revision was dropped, not the item sent back to draft


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
    version: int = 1
    drafted_by: str | None = None  # None: drafted from a feed
    edited_by: tuple[str, ...] = ()
    submitted_by: str | None = None  # of the submission under review, if it is
    revision: Revision | None = None
    sent_back: SentBack | None = None

    @property
    def awaiting_approval(self) -> bool:
        return self.status is S.IN_REVIEW or self.revision is not None

    def approvers_excluded(self) -> frozenset[str]:
        """Who may not approve what awaits approval: the revision's authors, or the item's."""
        return frozenset(self.revision.authors) if self.revision is not None else self.authors

    def may_approve(self, person: str) -> bool:
        """Whether four eyes let `person` approve or send back what awaits approval (roles aside)."""
        return self.awaiting_approval and person not in self.approvers_excluded()


def draft(item_id: str, content: ItemContent, author: str | None, tracked_link: str,
          title_from_text: bool = False) -> Item:
    """A new draft; a feed entry has no author until an editor submits it. `tracked_link`:
    see `validation.check_content`."""
    validation.check_content(content, tracked_link)
    return Item(item_id, S.DRAFT, content, frozenset({author} if author else ()), title_from_text=title_from_text,
                drafted_by=author)


def edit(item: Item, actor: str, content: ItemContent, tracked_link: str, disclosure_required: bool,
         seen_version: int | None = None) -> Item:
    """Before publication: the new content, back to draft. After: see `_edit_published`."""
    check_version(item, seen_version)
    status = next_status(item.status, Step.EDIT)
    if item.status is S.PUBLISHED:
        return _edit_published(item, actor, content, tracked_link, disclosure_required)
    validation.check_content(content, tracked_link)
    return replace(item, status=status, content=content, authors=item.authors | {actor},
                   edited_by=_with(item.edited_by, actor), submitted_by=None, version=item.version + 1,
                   title_from_text=item.title_from_text and content.title == item.content.title)


def _edit_published(item: Item, actor: str, content: ItemContent, tracked_link: str,
                    disclosure_required: bool) -> Item:
    """The edit's fields that need no review apply now; its reviewed fields, where they
    differ from both the published ones and the pending revision's, become the pending
    revision (its authors joined by `actor`). A revision must be ready for advocates as a
    submission is: the disclosure cannot be dropped where it is required."""
    if content.source_url != item.content.source_url:
        # Advocates have posted tracked links that resolve to this URL: changing it would
        # repoint every one of them, unreviewed. Retract and draft a new item instead.
        raise Rejected(Reason.SOURCE_URL_LOCKED, "a published item's source_url cannot change")
    now_applied = _reviewed_from(item.content, content)
    validation.check_content(now_applied, tracked_link)
    revision = item.revision
    unchanged = [item.content] + ([revision.content] if revision else [])
    if all(_reviewed_differ(content, before) for before in unchanged):
        validation.check_content(content, tracked_link)
        validation.check_ready_for_review(content, disclosure_required)
        revision = Revision(content, _with(revision.authors if revision else (), actor))
    changed = now_applied != item.content or revision != item.revision
    return replace(item, content=now_applied, revision=revision, version=item.version + int(changed))


def submit(item: Item, actor: str, disclosure_required: bool) -> Item:
    status = next_status(item.status, Step.SUBMIT)
    validation.check_ready_for_review(item.content, disclosure_required)
    return replace(item, status=status, authors=item.authors | {actor}, submitted_by=actor, sent_back=None)


def approve(item: Item, approver: str, seen_version: int | None = None) -> Item:
    """Approve the item in review, or the published item's pending revision (which then
    applies). Raises `Rejected`: `item_changed` if `seen_version` is not the current one,
    `four_eyes_violation`, `transition_not_allowed`."""
    check_version(item, seen_version)
    if item.revision is not None:
        return _approve_revision(item, item.revision, approver)
    status = next_status(item.status, Step.APPROVE)
    _check_four_eyes(item, approver)
    return replace(item, status=status)


def _approve_revision(item: Item, revision: Revision, approver: str) -> Item:
    _check_four_eyes(item, approver)
    content = _reviewed_from(revision.content, item.content)
    return replace(item, content=content, revision=None, authors=item.authors | set(revision.authors),
                   edited_by=_with(item.edited_by, *revision.authors), version=item.version + 1, sent_back=None,
                   title_from_text=item.title_from_text and content.title == item.content.title)


def send_back(item: Item, approver: str, note: str) -> Item:
    """The item in review back to draft, or the published item's pending revision dropped,
    with a note for the editors. Raises `Rejected` as `approve`, and `missing_field` or
    `too_long` for the note."""
    validation.check_required(note=note)
    validation.check_length("note", note)
    if item.revision is not None:
        _check_four_eyes(item, approver)
        return replace(item, revision=None, version=item.version + 1, sent_back=SentBack(note, approver, True))
    status = next_status(item.status, Step.SEND_BACK)
    _check_four_eyes(item, approver)
    return replace(item, status=status, submitted_by=None, version=item.version + 1,
                   sent_back=SentBack(note, approver, False))


def release(item: Item, now: datetime) -> Item:
    """Publish an approved item now, or schedule it if its `publish_at` is ahead."""
    ahead = item.content.publish_at is not None and item.content.publish_at > now
    status = next_status(item.status, Step.SCHEDULE if ahead else Step.PUBLISH)
    validation.check_not_expired(item.content, now)
    return replace(item, status=status, published_at=None if ahead else now)


def retract(item: Item, reason: str) -> Item:
    """Retracted, with any pending revision (nothing is left to revise)."""
    status = next_status(item.status, Step.RETRACT)
    validation.check_required(reason=reason)
    validation.check_length("reason", reason)
    return replace(item, status=status, revision=None)


def check_version(item: Item, seen_version: int | None) -> None:
    """`item_changed` unless `seen_version` is the item's (None: not checked)."""
    if seen_version is not None and seen_version != item.version:
        raise Rejected(Reason.ITEM_CHANGED, "the item changed since that version was read: read it again")


def _check_four_eyes(item: Item, approver: str) -> None:
    if approver in item.approvers_excluded():
        raise Rejected(Reason.FOUR_EYES_VIOLATION,
                       "the approver must not have drafted, edited or submitted what awaits approval")


def _reviewed_from(source: ItemContent, target: ItemContent) -> ItemContent:
    """`target` with the reviewed fields of `source`."""
    return target.model_copy(update={field.value: getattr(source, field) for field in ReviewedField})


def _reviewed_differ(a: ItemContent, b: ItemContent) -> bool:
    return any(getattr(a, field) != getattr(b, field) for field in ReviewedField)


def _with(people: tuple[str, ...], *more: str) -> tuple[str, ...]:
    """`people` and then `more`, each once, in order of first appearance."""
    return tuple(dict.fromkeys((*people, *more)))
