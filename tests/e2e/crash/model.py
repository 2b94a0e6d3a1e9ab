"""The reference: the final state computed from the inputs alone, in plain Python, by
restating the platform's rules (never by calling its code). Compared with what the services
hold after the faults, it tells loss (something missing) from double effects (a renewal
where one give was sent, a click counted twice, a share made twice)."""

from collections import Counter
from dataclasses import dataclass

from schemas.consent import Purpose
from tests.e2e.audience import reaches
from tests.e2e.crash.inputs import GIVE, REFUSE, WITHDRAW, Plan

VALID = {"given", "renewed_given"}
METRICS_PURPOSES = {Purpose.SHARE_ATTRIBUTION, Purpose.NETWORK_REACH, Purpose.LEADERBOARD}


def consent_status(p: Plan) -> dict[tuple[str, str], str]:
    """(advocate, purpose) -> status, folding each person's choices in order. Giving again
    what one holds is a renewal; withdrawing what one does not hold changes nothing."""
    status: dict[tuple[str, str], str] = {}
    for who, sequence in p.choices.items():
        for verb, purpose in sequence:
            key, before = (who, purpose.value), status.get((who, purpose.value))
            if verb == GIVE:
                status[key] = "renewed_given" if before in VALID else "given"
            elif verb == REFUSE:
                status[key] = "refused"
            elif verb == WITHDRAW and before in VALID:
                status[key] = "withdrawn"
    return status


def ledger_entries(p: Plan) -> int:
    """Every give and refusal is an entry of the proof ledger; a withdrawal only if it withdrew."""
    entries, status = 0, {}
    for who, sequence in p.choices.items():
        for verb, purpose in sequence:
            before = status.get((who, purpose))
            if verb != WITHDRAW or before in VALID:
                entries += 1
                status[(who, purpose)] = {GIVE: "given", REFUSE: "refused", WITHDRAW: "withdrawn"}[verb]
    return entries


def validity(p: Plan, purposes=None) -> dict[tuple[str, str], bool]:
    """What the consumers of consent events hold: a row per announced (advocate, purpose)."""
    return {key: status in VALID for key, status in consent_status(p).items()
            if purposes is None or key[1] in {x.value for x in purposes}}


def feeds(p: Plan) -> set[tuple[str, str]]:
    status = consent_status(p)
    return {(person.advocate_id, item_id) for person in p.people for item_id, content in p.items.items()
            if reaches(person, content, status.get((person.advocate_id, Purpose.RECEIVE_CONTENT.value)) in VALID)}


def shares(p: Plan) -> Counter:
    """(advocate, item, network) -> how many shares: one per request for an item in the feed."""
    in_feed = feeds(p)
    return Counter((who, item, network.value) for who, item, network in p.share_requests if (who, item) in in_feed)


def followers(p: Plan, reported: list) -> dict[tuple[str, str], int]:
    """Kept only for those who allow network_reach; the latest report of each network."""
    status, kept = consent_status(p), {}
    for report in sorted(reported, key=lambda r: r.data.observed_at):
        d = report.data
        if status.get((d.advocate_id, Purpose.NETWORK_REACH.value)) in VALID:
            kept[(d.advocate_id, d.network.value)] = d.followers
    return kept


def engagement(reported: list) -> dict[str, tuple[int, int, int, int]]:
    """Cumulative counters, repeated or late and lower: the highest of each counts."""
    highest: dict[str, tuple[int, int, int, int]] = {}
    for report in reported:
        d = report.data
        now = (d.impressions, d.reactions, d.comments, d.reshares)
        highest[d.share_id] = tuple(max(a, b) for a, b in zip(highest.get(d.share_id, now), now, strict=True))
    return highest


@dataclass(frozen=True)
class ItemFigures:
    shares: int
    human_clicks: int
    bot_clicks: int
    impressions: int


def item_figures(share_items: dict[str, str], landed_clicks: list[tuple[str, bool]],
                 counters: dict[str, tuple]) -> dict[str, ItemFigures]:
    """Per item, from its shares (share -> item), the clicks that landed (share, bot) and
    the engagement counters per share."""
    human = Counter(share_items[s] for s, bot in landed_clicks if not bot)
    bots = Counter(share_items[s] for s, bot in landed_clicks if bot)
    per_item = Counter(share_items.values())
    impressions = Counter()
    for share_id, c in counters.items():
        impressions[share_items[share_id]] += c[0]
    return {item: ItemFigures(n, human[item], bots[item], impressions[item]) for item, n in per_item.items()}
