"""Distribution's rules, pure: who may share what, how, and when notifications are due."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from schemas.directory import Digest, Network
from schemas.networks import LIMITS, compose, refuses_characters, weighted_length
from services.runtime.rejections import Rejected


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


def share_text(item: ItemView, network: Network, edited: str | None) -> str:
    """The text an advocate shares: theirs if the item allows editing, else the suggestion."""
    if edited is not None:
        if not item.editable:
            raise Rejected("text_not_editable", "this item's suggested text cannot be edited")
        return edited
    return item.share_texts.get(network.value) or item.title


def check_share(
    item: ItemView | None, in_feed: bool, network: Network, post: str,
    scheduled_at: datetime | None, may_schedule: bool, now: datetime,
) -> None:
    """Raise `Rejected` with a reason code for the first rule the request breaks."""
    if item is None or not in_feed:
        raise Rejected("item_not_in_feed", "the item is not in this advocate's feed")
    if item.status != "active":
        raise Rejected("item_not_active", f"the item is {item.status}")
    if network not in LIMITS:
        raise Rejected("network_not_supported", network.value)
    length = weighted_length(network, post)
    if length > LIMITS[network].max_chars:
        raise Rejected("text_too_long", f"{network.value}: {length} of {LIMITS[network].max_chars} characters")
    if refuses_characters(network, post):
        raise Rejected("text_invalid_characters", f"{network.value} refuses a character in the text")
    if scheduled_at is not None:
        if not may_schedule:
            raise Rejected("scheduled_sharing_not_consented", "scheduling needs the scheduled_sharing consent")
        if scheduled_at <= now:
            raise Rejected("scheduled_in_the_past", "scheduled_at must be in the future")


def post_of(text: str, item: ItemView, link: str) -> str:
    return compose(text, item.disclosure, link)


def next_digest(digest: Digest, now: datetime, hour: int) -> datetime:
    """The next daily digest (at `hour` UTC), or weekly (Mondays); immediate over the cap
    waits for the next daily one."""
    at = datetime.combine(now.date(), time(hour), tzinfo=now.tzinfo)
    if at <= now:
        at += timedelta(days=1)
    if digest is Digest.WEEKLY:
        at += timedelta(days=(7 - at.weekday()) % 7)
    return at
