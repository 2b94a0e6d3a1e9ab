"""Distribution's rules, pure: who may share what, how, what a feed suggests, which share
may be cancelled, and when notifications are due."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from schemas.commands import Rejected
from schemas.directory import Digest, Network
from schemas.distribution import Reason
from schemas.networks import LIMITS, blank, compose, refuses_characters, weighted_length


def audience_told(size: int, k: int) -> tuple[int | None, bool]:
    """An audience's size as partners are told it: (size, False) from k people up, else
    (None, True). Below k the number would tell whether the few people a narrow audience
    matches said yes to receive_content (0 included: "nobody" is as telling as "one")."""
    return (size, False) if size >= k else (None, True)


@dataclass(frozen=True)
class ItemView:
    """What distribution knows of an item, from curation's events."""

    item_id: str
    status: str  # active, retracted, expired
    source_url: str
    campaign_id: str | None
    disclosure: str | None
    share_texts: dict[str, str]
    title: str
    editable: bool
    summary: str = ""
    image_url: str | None = None
    language: str = ""

    @classmethod
    def of(cls, item_id: str, status: str, campaign_id: str | None, content: Mapping[str, Any]) -> "ItemView":
        """From curation's `ItemContent` as JSON (schemas/curation.py)."""
        return cls(item_id=item_id, status=status, source_url=content["source_url"], campaign_id=campaign_id,
                   disclosure=content.get("disclosure"), share_texts=content.get("share_texts") or {},
                   title=content["title"], editable=content.get("editable", True),
                   summary=content.get("summary", ""), image_url=content.get("image_url"),
                   language=content.get("language", ""))


class ShareStatus(StrEnum):
    """Where a share is in its life (`shares.status`)."""

    CREATED = "created"  # a tracked link made; the advocate posts it themself
    SCHEDULED = "scheduled"  # a connector posts it at `scheduled_at`
    PUBLISH_REQUESTED = "publish_requested"  # its time came; a connector was asked to post it
    PUBLISHED = "published"  # the connector reported it posted
    FAILED = "failed"  # the connector reported it could not post it
    CANCELLED = "cancelled"  # called off before it was posted


def item_in_feed(item: ItemView | None, in_feed: bool) -> ItemView:
    """The item to share, if it is in the advocate's feed; else `Rejected` `item_not_in_feed`.
    Checked before any rule about the item itself, so that a request for an item that is not
    the advocate's to share learns nothing of it (whether it exists, may be edited, …)."""
    if item is None or not in_feed:
        raise Rejected(Reason.ITEM_NOT_IN_FEED, "the item is not in this advocate's feed")
    return item


def share_text(item: ItemView, network: Network, edited: str | None) -> str:
    """The text an advocate shares: theirs if the item allows editing, else the suggestion."""
    if edited is not None:
        if not item.editable:
            raise Rejected(Reason.TEXT_NOT_EDITABLE, "this item's suggested text cannot be edited")
        if blank(edited):  # a post of a disclosure and a link, nothing of the person's
            raise Rejected(Reason.TEXT_EMPTY, "an own text has something to read; leave it out for the suggested one")
        if "\x00" in edited:  # no network posts a NUL, and no Postgres text keeps one
            raise Rejected(Reason.TEXT_INVALID_CHARACTERS, "the text holds a NUL character")
        return edited
    return item.share_texts.get(network.value) or item.title


def check_share(
    item: ItemView | None, in_feed: bool, network: Network, post: str,
    scheduled_at: datetime | None, may_schedule: bool, now: datetime,
) -> None:
    """Raise `Rejected` with a reason code for the first rule the request breaks."""
    if item is None or not in_feed:
        raise Rejected(Reason.ITEM_NOT_IN_FEED, "the item is not in this advocate's feed")
    if item.status != "active":
        raise Rejected(Reason.ITEM_NOT_ACTIVE, f"the item is {item.status}")
    length = weighted_length(network, post)
    if length > LIMITS[network].max_chars:
        raise Rejected(Reason.TEXT_TOO_LONG, f"{network.value}: {length} of {LIMITS[network].max_chars} characters")
    if refuses_characters(network, post):
        raise Rejected(Reason.TEXT_INVALID_CHARACTERS, f"{network.value} refuses a character in the text")
    if scheduled_at is not None:
        if not may_schedule:
            raise Rejected(Reason.SCHEDULED_SHARING_NOT_CONSENTED, "scheduling needs the scheduled_sharing consent")
        if scheduled_at <= now:
            raise Rejected(Reason.SCHEDULED_IN_THE_PAST, "scheduled_at must be in the future")


def post_of(text: str, item: ItemView, link: str) -> str:
    return compose(text, item.disclosure, link)


def check_cancel(status: ShareStatus | None) -> None:
    """Raise `Rejected` unless the share is scheduled. `status` is None when no share of the
    advocate's has the id: another person's share gets the same answer as one that does not
    exist, so nobody learns whether it does."""
    if status is None:
        raise Rejected(Reason.UNKNOWN_SHARE, "no share of yours has this id")
    if status is not ShareStatus.SCHEDULED:
        raise Rejected(Reason.SHARE_NOT_SCHEDULED,
                       f"the share is {status.value}; only a scheduled one can be cancelled")


@dataclass(frozen=True)
class SuggestedPost:
    """What a feed suggests posting on one network, counted as that network counts it."""

    network: Network
    text: str  # the suggested text: the item's text for the network, else its title
    post: str  # text, disclosure and tracked link, one per line, as it would go out
    length: int  # `post`'s length as `network` counts it (schemas/networks.py)
    max_length: int  # the network's limit

    @property
    def fits(self) -> bool:
        return self.length <= self.max_length


def post_lengths(item: ItemView, link: str) -> dict[str, int]:
    """{network: length} of the item's suggested post on every network, with `link` (a
    tracked link, or one as long) in it. Costly for X (milliseconds): done once per item."""
    return {network.value: weighted_length(network, post_of(share_text(item, network, None), item, link))
            for network in Network}


def suggested_posts(item: ItemView, networks: Iterable[Network], link: str,
                    counted: Mapping[str, int] | None = None) -> list[SuggestedPost]:
    """The item's suggested post on each of `networks`, in their order, with `link` in it.
    `counted` holds lengths `post_lengths` gave for the same item and link; what it lacks
    is counted here."""
    posts = []
    for network in networks:
        text = share_text(item, network, None)
        post = post_of(text, item, link)
        length = counted.get(network) if counted else None  # a StrEnum member finds its value's key
        if length is None:
            length = weighted_length(network, post)
        posts.append(SuggestedPost(network, text, post, length, LIMITS[network].max_chars))
    return posts


_NETWORKS = frozenset(n.value for n in Network)


def feed_networks(named: Iterable[str]) -> list[Network]:
    """The networks a person's feed suggests posts for: those they named in the directory,
    in their order, once each; all of them if they named none (or none we know)."""
    known = list(dict.fromkeys(Network(n) for n in named if n in _NETWORKS))
    return known or list(Network)


def next_digest(digest: Digest, now: datetime, hour: int) -> datetime:
    """The next daily digest (at `hour` UTC), or weekly (Mondays); immediate over the cap
    waits for the next daily one."""
    at = datetime.combine(now.date(), time(hour), tzinfo=now.tzinfo)
    if at <= now:
        at += timedelta(days=1)
    if digest is Digest.WEEKLY:
        at += timedelta(days=(7 - at.weekday()) % 7)
    return at


class DueNotification(NamedTuple):
    """An item waiting to be notified to a person, by their digest preference."""

    advocate_id: str
    item_id: str
    digest: Digest


@dataclass
class NotificationPlan:
    """What one pass of the notifier does with what is due."""

    # (advocate_id, digest, item_ids): one notification each.
    send: list[tuple[str, Digest, list[str]]] = field(default_factory=list)
    # (advocate_id, item_id): immediate ones over the daily cap, for the next daily digest.
    postpone: list[tuple[str, str]] = field(default_factory=list)
    # advocate_id -> immediate notifications sent now, towards today's cap.
    immediate_sent: dict[str, int] = field(default_factory=dict)


def plan_notifications(due: Sequence[DueNotification], sent_today: Mapping[str, int], daily_cap: int
                       ) -> NotificationPlan:
    """Immediate items one notification each, up to `daily_cap` a person a day (counting
    `sent_today`); the rest of a person's immediate items wait for the daily digest. Digest
    items (daily, weekly) go out together, one notification per person and digest."""
    immediate: dict[str, list[str]] = defaultdict(list)
    digests: dict[tuple[str, Digest], list[str]] = defaultdict(list)
    for n in due:
        if n.digest is Digest.IMMEDIATE:
            immediate[n.advocate_id].append(n.item_id)
        else:
            digests[(n.advocate_id, n.digest)].append(n.item_id)
    plan = NotificationPlan()
    for advocate, items in immediate.items():
        room = max(0, daily_cap - sent_today.get(advocate, 0))
        plan.send += [(advocate, Digest.IMMEDIATE, [item]) for item in items[:room]]
        plan.postpone += [(advocate, item) for item in items[room:]]
        if items[:room]:
            plan.immediate_sent[advocate] = len(items[:room])
    plan.send += [(advocate, digest, items) for (advocate, digest), items in digests.items()]
    return plan
