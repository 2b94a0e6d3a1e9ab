"""Pure rules of counting: sorting a batch into what it changes, keep-the-highest merging
of cumulative counters, the EMV and engagement-rate formulas, disclosure control of group
figures (k distinct contributors, secondary suppression, whole weeks); which report
periods and currencies are accepted, and who may see their own figures and the
leaderboard. No I/O."""

import heapq
from array import array
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from schemas import distribution, engagement
from schemas.commands import Rejected
from schemas.consent import Purpose
from schemas.envelope import event_type_of
from schemas.metrics import Reason


class Row(Protocol):
    """A row of sums, read by column name (a database row, a dict)."""

    def __getitem__(self, column: str, /) -> Any: ...


COUNTERS = ("impressions", "reactions", "comments", "reshares")


@dataclass(frozen=True)
class Rate:
    cpm: float  # per thousand impressions
    cpc: float  # per click
    cpe: float  # per engagement: a reaction, comment or reshare


@dataclass(frozen=True)
class RateCard:
    """The rates of one currency, per network, as configured in emv_rates.toml."""

    currency: str
    rates: Mapping[str, Rate]

    def as_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "formula": EMV_FORMULA,
                "rates": {n: vars(r) for n, r in sorted(self.rates.items())}}


EMV_FORMULA = "impressions / 1000 × cpm + clicks × cpc + (reactions + comments + reshares) × cpe, per network"


@dataclass(frozen=True)
class RateCards:
    """Every currency's rate card, and which one a report uses unless it names another."""

    default_currency: str
    cards: Mapping[str, RateCard]

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> "RateCards":
        """From the rates file's content: `default_currency = "EUR"` and one table per
        currency, `[EUR.linkedin] cpm = … cpc = … cpe = …`. KeyError or TypeError if malformed."""
        cards = {currency: RateCard(currency, {network: Rate(**rate) for network, rate in networks.items()})
                 for currency, networks in config.items() if isinstance(networks, dict)}
        if config["default_currency"] not in cards:
            raise KeyError(f"no rates for the default currency {config['default_currency']}")
        return cls(config["default_currency"], cards)

    def card(self, currency: str | None = None) -> RateCard:
        """The card for `currency` (the default if None); KeyError if there is none."""
        return self.cards[currency or self.default_currency]


@dataclass
class Totals:
    shares: int = 0
    clicks: int = 0
    unique_clicks: int = 0
    impressions: int = 0
    reactions: int = 0
    comments: int = 0
    reshares: int = 0
    potential_reach: int = 0

    # Spelled out, not looped over dataclasses.fields(): a year's report adds tens of
    # thousands of these, and the loop was most of its time.
    @classmethod
    def of(cls, row: Row) -> "Totals":
        return cls(int(row["shares"] or 0), int(row["clicks"] or 0), int(row["unique_clicks"] or 0),
                   int(row["impressions"] or 0), int(row["reactions"] or 0), int(row["comments"] or 0),
                   int(row["reshares"] or 0), int(row["potential_reach"] or 0))

    def __add__(self, other: "Totals") -> "Totals":
        return Totals(self.shares + other.shares, self.clicks + other.clicks, self.unique_clicks + other.unique_clicks,
                      self.impressions + other.impressions, self.reactions + other.reactions,
                      self.comments + other.comments, self.reshares + other.reshares,
                      self.potential_reach + other.potential_reach)

    @property
    def engagements(self) -> int:
        return self.reactions + self.comments + self.reshares


def figures(per_network: Mapping[str, Totals], card: RateCard) -> dict[str, Any]:
    """The figures of a scope from its totals per network: sums, engagement rate, EMV."""
    total = sum(per_network.values(), Totals())
    return {**vars(total), "engagement_rate": engagement_rate(total), "emv": emv(per_network, card),
            "currency": card.currency}


def engagement_rate(t: Totals) -> float:
    """Interactions per impression; clicks count as interactions. 0 without impressions."""
    return round((t.engagements + t.clicks) / t.impressions, 6) if t.impressions else 0.0


def emv(per_network: Mapping[str, Totals], card: RateCard) -> float:
    """Earned media value: each network's figures at that network's rates (0 without rates)."""
    value = 0.0
    for network, t in per_network.items():
        rate = card.rates.get(network)
        if rate is not None:
            value += t.impressions / 1000 * rate.cpm + t.clicks * rate.cpc + t.engagements * rate.cpe
    return round(value, 2)


def keep_highest(observations: Iterable[tuple[str, Sequence[int]]]) -> dict[str, list[int]]:
    """Merge cumulative counters per share: the highest of each counter wins, so a repeated
    or late (lower) report changes nothing. Counters are in COUNTERS order."""
    merged: dict[str, list[int]] = {}
    for share_id, counters in observations:
        known = merged.get(share_id)
        merged[share_id] = (list(counters) if known is None
                            else [max(a, b) for a, b in zip(known, counters, strict=True)])
    return merged


# --- disclosure control: what a group figure may show (ADR 0020) -----------------------------
#
# Group figures are sums over shares (clicks by day: over a share's clicks of one day). Each
# is decided per week (ISO, Monday to Sunday, by the day a share was created): a figure over
# several weeks is shown only if shown in each, so what two periods differ by is a sum of
# shown weeks' figures. Within a week, a figure is a cell: one value of one dimension over
# the shares of one campaign, of no campaign, or of all. A reader who adds and subtracts
# shown cells (a total minus its org units, Sales of the whole period minus Sales of each
# campaign, topic "jobs" minus its items, Bern minus Sales when all of Sales is in Bern) gets
# a sum over regions, the shares in exactly the same shown cells: `suppressed` makes every
# region of a week made by at least k distinct people, and every cell shown too.

TOTAL = "total"  # the dimension of the totals; their key is TOTAL_KEY
TOTAL_KEY = ""
EVERY_CAMPAIGN = "*"  # the campaign of the sums over all campaigns (never a campaign id's shape)
CLICK_DAY = "click_day"  # clicks by the day they happened: cells of (share, day) pairs


class Cell(NamedTuple):
    """One figure of one week: `dimension`'s `key` (TOTAL, TOTAL_KEY for the totals) over the
    shares of `campaign` (None: shares of no campaign; EVERY_CAMPAIGN: all shares)."""

    dimension: str
    campaign: str | None
    key: Any


def suppressed(cells: Mapping[Cell, Collection[Hashable]], contributor: Mapping[Hashable, Any], k: int,
               never: Collection[Cell] = (), network: Mapping[Hashable, str] | None = None) -> set[Cell]:
    """The cells that must not be shown. `cells`: what each figure sums, as elements: share
    ids, and (share id, day) pairs for clicks (a cell of shares holds its shares' pairs too,
    as its clicks are theirs); `contributor`: whose each share is (a token).

    - Primary: a cell made by fewer than k distinct contributors is not shown, nor a cell
      in `never` (one no report shows on its own).
    - Secondary: the cells shown split the elements into regions, those in exactly the same
      shown cells. Any sum or difference of shown figures is a sum over whole regions, so
      each region in some shown cell must be made by at least k distinct contributors. A
      region made by fewer is merged with its nearest region (the fewest cells apart; then
      the one of fewer people) by leaving out a cell that tells them apart: the one with the
      fewest contributors, then the smallest key. So a total minus its groups shown, Bern
      minus Sales, a topic minus its items, two overlapping topics minus the total, the
      whole period minus a campaign: none isolates fewer than k people.
    A cell's EMV weighs its figures per network (`network`: each share's), which tells
    them apart: regions are per network too.
    Repeated until no region is too small. Deterministic: the same cells, the same answer,
    whatever report or snapshot asks."""
    return _suppressed(*_numbered(list(cells.items()), contributor, network), k, never)


def _numbered(cells: Sequence[tuple[Cell, Collection[Hashable]]], contributor: Mapping[Hashable, Any],
              network: Mapping[Hashable, str] | None
              ) -> tuple[list[tuple[Cell, list[int]]], list[Any], Callable[[int], tuple[bool, str | None]]]:
    """Elements given as share ids and (share id, day) pairs, numbered in the order first
    met, for `_suppressed`: the cells over their numbers, each one's contributor, and its
    kind (clicks or shares, and on which network)."""
    number: dict[Hashable, int] = {}
    numbered = [(cell, [number.setdefault(e, len(number)) for e in elements]) for cell, elements in cells]
    shares = [e[0] if isinstance(e, tuple) else e for e in number]
    kinds = [(isinstance(e, tuple), (network or {}).get(share)) for e, share in zip(number, shares, strict=True)]
    return numbered, [contributor[share] for share in shares], kinds.__getitem__


def _suppressed(cells: Sequence[tuple[Cell, Collection[int]]], person: Sequence[Any],
                kind: Callable[[int], tuple[bool, str | None]], k: int, never: Collection[Cell]) -> set[Cell]:
    """`suppressed`, with the elements numbered from 0 (`person[e]`, `kind(e)`: element e's
    contributor and kind), the cells as (cell, elements) pairs, where a cell may come more
    than once (it sums the union): `disclosed` passes its atoms twice, as themselves and as
    part of their sum over all campaigns, and an atom per network, without copying them.

    How, at a year's scale (issue 19: a week of 38,000 shares by 30,000 people, ~1,000 cells):
    a region's elements only ever merge, as cells are left out; a region never splits. So
    each element is read once, into its region; from then on the work is per region, never
    per element, and regions are found from their cells through an index, never by looking
    at every region. The answer is the same as moving elements from region to region
    (tests/unit/metrics/test_metrics_disclosure_reference.py compares the two on random
    weeks): which regions there are and whose they are depend only on which cells are left
    out, and the same cells are left out in the same order. Nearly every element of a dense
    week is a region of its own at first (~190,000), so what a region costs is kept small
    (ADR 0028): ints in arrays, cells as bits of the shown cells only, one person unboxed."""
    parts: dict[Cell, list[Collection[int]]] = {}
    for cell, elements in cells:
        parts.setdefault(cell, []).append(elements)
    # Each cell's elements once, 4 bytes each: a cell is read three times below.
    elements_of = {cell: array("i", of_cell[0] if len(of_cell) == 1 and isinstance(of_cell[0], AbstractSet)
                               else set().union(*of_cell)) for cell, of_cell in parts.items()}
    del parts
    size = {c: len(set(map(person.__getitem__, elements))) for c, elements in elements_of.items()}
    hidden = {c for c, n in size.items() if n < k} | set(never)

    def order(c: Cell) -> tuple[int, str, str, str]:
        return size[c], str(c.key), str(c.campaign), c.dimension

    # A cell is known by its rank (fewest contributors first, as `order`). Regions know the
    # shown cells by their place among them, in rank order (`shown[place]` is the rank): a set
    # of cells is their places in increasing order, as the characters of a string, and as an
    # int, bit i for the place i, where `_Regions` counts cells apart. Places keep the order of
    # ranks, so every comparison comes out as it would with ranks.
    ranked = sorted(size, key=order)
    shown = [rank for rank, cell in enumerate(ranked) if cell not in hidden]
    holding = [""] * len(person)  # each element's shown cells
    for place, rank in enumerate(shown):
        in_cell = chr(place)
        for e in elements_of[ranked[rank]]:
            holding[e] += in_cell

    # The regions, by kind of element (clicks or shares, and network; numbered in the order
    # of their names) and the shown cells their elements are in. Elements in no shown cell
    # are left out: no figure tells anything of them, and they are nobody's nearest region.
    kinds = {its_kind: n for n, its_kind
             in enumerate(sorted({kind(e) for e, in_cells in enumerate(holding) if in_cells},
                                 key=lambda kd: (kd[0], str(kd[1]), repr(kd[1]))))}
    regions = _Regions(len(shown))
    region_of = array("i", bytes(4 * len(holding)))
    for e, in_cells in enumerate(holding):
        if in_cells:
            region_of[e] = regions.add(kinds[kind(e)], in_cells, person[e])
    del holding
    for place, rank in enumerate(shown):
        regions.holders[place] = array("i", set(map(region_of.__getitem__, elements_of[ranked[rank]])))
    del region_of, elements_of

    # The small regions, the smallest first, by `_Regions.key`. A region's key grows as its
    # people do; as it loses cells, it may grow or shrink. Each small region has an entry
    # whose key is not above its own: `leave_out` tells which regions' keys shrank, and an
    # entry popped whose region's key grew since is put back with the key it has now. So
    # an entry popped with its region's key is the smallest region's.
    queue = [(regions.key(n), n) for n in range(len(regions.ranks)) if regions.size(n) < k]
    heapq.heapify(queue)
    while queue:
        key, n = heapq.heappop(queue)
        if not 0 < regions.size(n) < k:
            continue  # since ended, or made by k people: it never becomes small again
        if regions.key(n) != key:
            heapq.heappush(queue, (regions.key(n), n))
            continue
        nearest = regions.nearest(n)
        telling = regions.cells[n] ^ regions.cells[nearest] if nearest is not None else regions.cells[n]
        lowest = (telling & -telling).bit_length() - 1  # the place of the cell of the lowest rank
        hidden.add(ranked[shown[lowest]])
        for m in [*regions.leave_out(lowest), n]:  # n too: if untouched by the cell, still to merge
            if 0 < regions.size(m) < k:
                heapq.heappush(queue, (regions.key(m), m))
    return hidden


class _People(set[Any]):
    """The people of a region of more than one (a region of one holds the person itself)."""


_ENDED = object()  # the people of a region that ended


def _joined(a: Any, b: Any) -> Any:
    """The people of two regions together (each a person or `_People`); may reuse either."""
    if type(a) is not _People:
        a, b = b, a
    if type(a) is not _People:
        return a if a == b else _People((a, b))
    if type(b) is _People:
        if len(a) < len(b):
            a, b = b, a
        a |= b
    else:
        a.add(b)
    return a


class _Regions:
    """The regions of `_suppressed`, each by a number that stays while it loses cells, and
    ends when it is merged into another: its kind, cells, people, and which regions each
    shown cell holds (to find a cell's regions and a region's nearest one without looking
    at every region, and to move a region without telling each of its cells). A cell's
    "rank" here is its place among the shown cells (`_suppressed`)."""

    def __init__(self, cell_count: int) -> None:
        self.bit = {chr(rank): 1 << rank for rank in range(cell_count)}
        self.number: list[dict[str, int]] = []  # by kind, by cells' ranks
        self.kind: list[int] = []  # by number, as all below
        self.ranks: list[str] = []  # "" once ended
        self.cells: list[int] = []  # the same as an int; 0 once ended
        self.people: list[Any] = []  # one person, or _People; _ENDED once ended
        self.holders: dict[int, array[int]] = {}  # by a cell's rank; a number may have ended since

    def add(self, kind: int, ranks: str, who: Any) -> int:
        """Count `who` in the region of that kind and cells; its number."""
        while len(self.number) <= kind:
            self.number.append({})
        n = self.number[kind].setdefault(ranks, len(self.ranks))
        if n == len(self.ranks):
            self.kind.append(kind)
            self.ranks.append(ranks)
            self.cells.append(sum(map(self.bit.__getitem__, ranks)))
            self.people.append(who)
        else:
            self.people[n] = _joined(self.people[n], who)
        return n

    def size(self, n: int) -> int:
        """How many people region `n` has; 0 once ended."""
        people = self.people[n]
        return len(people) if type(people) is _People else int(people is not _ENDED)

    def key(self, n: int) -> str:
        """A small region's place in the order in which they are merged: the fewest people
        first, then by name: its kind, then its cells' ranks in increasing order, compared as
        a sequence (one that begins another comes first). People and kind are one character
        each, so the string compares as that tuple does, and quickly."""
        return chr(self.size(n)) + chr(self.kind[n]) + self.ranks[n]

    def nearest(self, n: int) -> int | None:
        """The region of the same kind nearest to region `n`: the fewest cells apart, then
        the fewest people, then by name; None if it is alone. Regions that share none of a
        set of its cells are that many cells apart at least. So its cells are taken the
        fewest holders first, each one's holders looked at, until those not yet looked at
        are too far to be nearer, or as near (the tie is broken by people and name)."""
        region, kind = self.cells[n], self.kind[n]
        best, best_key = -1, (0, 0)
        looked_at = 0  # the cells whose holders were looked at

        def look_at(m: int) -> None:
            nonlocal best, best_key
            key = ((region ^ self.cells[m]).bit_count(), self.size(m))
            if best < 0 or key < best_key or (key == best_key and self.ranks[m] < self.ranks[best]):
                best, best_key = m, key

        cells = sorted(map(ord, self.ranks[n]), key=lambda rank: len(self.holders[rank]))
        for count, rank in enumerate(cells):
            if best >= 0 and best_key[0] < count:
                break  # the others share none of `count` cells with it
            # Regions merged into others end, but stay among their cells' holders until looked at.
            self.holders[rank] = array("i", (m for m in self.holders[rank] if self.cells[m]))
            for m in self.holders[rank]:
                other = self.cells[m]
                if not other & looked_at and self.kind[m] == kind and m != n:
                    look_at(m)
            looked_at |= 1 << rank
        else:
            if best < 0 or best_key[0] > len(cells):  # those sharing no cell may be as near
                for m, other in enumerate(self.cells):
                    if other and not other & region and self.kind[m] == kind:
                        look_at(m)
        return best if best >= 0 else None

    def leave_out(self, rank: int) -> list[int]:
        """Leave the cell of `rank` out of every region: each region in it merges with the
        one of its kind that differs from it by that cell alone, if there is one (the larger
        set of people takes in the smaller). Returns the regions whose key shrank: those
        that lost their last cell in rank order and are still there."""
        shrank = []
        gone, bit = chr(rank), 1 << rank
        for n in self.holders.pop(rank, ()):
            if not self.cells[n]:
                continue  # ended
            number, ranks = self.number[self.kind[n]], self.ranks[n]
            del number[ranks]
            rest = ranks.replace(gone, "")
            into = number.get(rest)
            if into is None and rest:
                number[rest], self.ranks[n] = n, rest
                self.cells[n] ^= bit
                if ranks[-1] == gone:
                    shrank.append(n)
            else:  # merged (the key of the one it joins does not shrink), or in no shown cell: it ends
                if into is not None:
                    self.people[into] = _joined(self.people[into], self.people[n])
                self.cells[n], self.people[n], self.ranks[n] = 0, _ENDED, ""
        return shrank


def disclosed(atoms: Mapping[Cell, Collection[Hashable]], contributor: Mapping[Hashable, Any],
              k: int, network: Mapping[Hashable, str] | None = None) -> dict[Cell, bool]:
    """Which figures of one week may be shown, from its atoms: what each cell of each
    campaign (None: shares of no campaign) sums, TOTAL cells among them; `contributor` and
    `network` of each share as for `suppressed`. Answers for the
    atoms and for their sums over all campaigns (EVERY_CAMPAIGN): True if shown. Never
    shown on their own: the shares of no campaign (there is no report of them) and shares
    without a value (no org unit), so they stay in what is left over."""
    return _disclosed(*_numbered(list(atoms.items()), contributor, network), k)


_SHARE, _CLICKS = (False, None), (True, None)  # the kinds of numbered elements


def disclosed_numbered(atoms: Iterable[tuple[Cell, Collection[int]]], person: Sequence[Any], clicks_from: int,
                       k: int) -> dict[Cell, bool]:
    """`disclosed`, with the week's elements numbered from 0 (ADR 0028): shares below
    `clicks_from`, (share, day) pairs from it; `person[e]`: element e's contributor. An
    atom may come more than once (one per network): it sums the union. Regions are not
    split by network. The same answer as `disclosed` given the same week by share ids."""
    def kind(e: int) -> tuple[bool, None]:
        return _CLICKS if e >= clicks_from else _SHARE

    return _disclosed(list(atoms), person, kind, k)


def _disclosed(atoms: Sequence[tuple[Cell, Collection[int]]], person: Sequence[Any],
               kind: Callable[[int], tuple[bool, str | None]], k: int) -> dict[Cell, bool]:
    cells = [(cell, elements) for atom, elements in atoms for cell in (atom, atom._replace(campaign=EVERY_CAMPAIGN))]
    every = dict.fromkeys(cell for cell, _ in cells)  # in the order first named
    never = {c for c in every if c.campaign is None or c.key is None}
    hidden = _suppressed(cells, person, kind, k, never)
    return {c: c not in hidden for c in every}


def shown_over_weeks(weeks: Iterable[Mapping[Cell, bool]], cell: Cell) -> bool:
    """A figure over several weeks is shown only if it is shown in each week where it has
    shares: then what two periods differ by is itself a sum of shown weeks' figures."""
    return all(week.get(cell, True) for week in weeks)


def week_of(day: date) -> date:
    """The Monday of `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


def aligned_period(starts_on: date, ends_on: date) -> tuple[date, date]:
    """A group report's period widened to whole weeks: from the Monday of `starts_on`'s week
    to the Sunday of `ends_on`'s."""
    return week_of(starts_on), week_of(ends_on) + timedelta(days=6)


def last_closed_day(today: date) -> date:
    """The last day group figures count: the Sunday before `today`'s week (a week is counted
    once it is over, as a whole, so its shares do not come in one at a time)."""
    return week_of(today) - timedelta(days=1)


MAX_PERIOD_DAYS = 366


# The last day a period may end on: its week, to which group reports widen it, ends by date.max.
LAST_DAY = week_of(date.max) - timedelta(days=1)


def check_period(starts_on: date, ends_on: date) -> None:
    """A report's period ends on or after its start (both inclusive), spans at most 366
    days and ends by LAST_DAY (9999-12-26); Rejected(INVALID_PERIOD) otherwise."""
    if ends_on < starts_on or (ends_on - starts_on).days >= MAX_PERIOD_DAYS or ends_on > LAST_DAY:
        raise Rejected(Reason.INVALID_PERIOD, f"a period ends on or after its start, by {LAST_DAY}, "
                                              f"and spans at most {MAX_PERIOD_DAYS} days")


def rate_card(cards: RateCards, currency: str | None) -> RateCard:
    """The card a report uses: `currency`'s, or the default one if None;
    Rejected(UNKNOWN_CURRENCY) if the rates file has none in that currency."""
    if currency is not None and currency not in cards.cards:
        raise Rejected(Reason.UNKNOWN_CURRENCY, "the rates file has no rates in that currency")
    return cards.card(currency)


def check_may_see_impact(consents: Collection[str]) -> None:
    """Figures about a person are kept, and so shown to them, only with their valid
    `share_attribution` consent (DESIGN.md: per-advocate figures only with consent);
    Rejected(ATTRIBUTION_NOT_CONSENTED) otherwise. `consents`: the purposes they allow."""
    if Purpose.SHARE_ATTRIBUTION not in consents:
        raise Rejected(Reason.ATTRIBUTION_NOT_CONSENTED, "figures are kept about you only with share_attribution")


def check_may_see_leaderboard(consents: Collection[str]) -> None:
    """The leaderboard is seen only by those in it: people who allow `leaderboard` (appear
    in rankings) and `share_attribution` (their shares are counted as theirs);
    Rejected(LEADERBOARD_NOT_CONSENTED) otherwise."""
    if not {Purpose.LEADERBOARD, Purpose.SHARE_ATTRIBUTION} <= set(consents):
        raise Rejected(Reason.LEADERBOARD_NOT_CONSENTED,
                       "the leaderboard is shown only to those who allow leaderboard and share_attribution")


# --- one batch of counted events, sorted by what each changes --------------------------------

class NewShare(NamedTuple):
    share_id: str
    advocate_id: str
    item_id: str
    campaign_id: str | None
    network: str
    day: date


class Clicks(NamedTuple):
    """What one visitor did with one share on one day: `clicks`, a person's, and
    `machine_requests`, a link-preview fetcher's, a HEAD or a prefetch (distribution's
    visitors.py), counted apart; `bot` if there was no click, only machine requests."""

    share_id: str
    day: date
    visitor: str
    bot: bool
    clicks: int
    machine_requests: int


class Observation(NamedTuple):
    """A share's cumulative counters (COUNTERS order) as last observed."""

    share_id: str
    impressions: int
    reactions: int
    comments: int
    reshares: int
    observed_at: datetime


class FollowerCount(NamedTuple):
    advocate_id: str
    network: str
    followers: int
    observed_at: datetime


@dataclass
class Tally:
    """What one batch changes, merged in memory where several events touch one row."""

    shares: list[NewShare] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    clicks: list[Clicks] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    followers: list[FollowerCount] = field(default_factory=list)
    touched_shares: set[str] = field(default_factory=set)  # whose figures this batch changes (their snapshots fall due)


# The counted types by their CloudEvents `type`, which the decoder picked the class by: a
# string comparison per event, where isinstance went through ABCMeta (ADR 0026).
_SHARED = event_type_of(distribution.ShareCreated)
_CANCELLED = event_type_of(distribution.ShareCancelled)
_CLICKED = event_type_of(distribution.LinkClicked)
_OBSERVED = event_type_of(engagement.EngagementObserved)
_FOLLOWERS = event_type_of(engagement.FollowersReported)


def counted_once_by_construction(event: Any) -> bool:
    """Whether counting `event` again changes nothing (ADR 0021): a share is inserted by its
    id, a cancellation sets a flag, an observation keeps each counter's highest value, a
    follower count the latest; types not counted change nothing. Only a click adds to a
    counter (its visitor's clicks of the day): it is deduplicated by its publication number,
    or by its id if it has none."""
    return bool(event.type != _CLICKED)  # by its type: isinstance through pydantic's ABCMeta costs more per event


class Tallying:
    """A Tally built an event at a time (`add`), then `result()`: the pipelined consumer
    tallies a batch while it decodes it, before its transaction (ADR 0026)."""

    def __init__(self) -> None:
        self._shares: list[NewShare] = []
        self._cancelled: list[str] = []
        # A visitor's clicks and machine requests (a HEAD, a prefetch) of a share on a day, apart:
        # the one must not turn the other into a machine's. Not Counters: their __missing__ is
        # Python, called per new key.
        self._clicks: dict[tuple[str, date, str], int] = {}
        self._machine: dict[tuple[str, date, str], int] = {}
        self._observed: list[tuple[str, Sequence[int], datetime]] = []
        self._followers: dict[tuple[str, str], FollowerCount] = {}
        self._touched: set[str] = set()
        self._touch = self._touched.add

    def add(self, event: Any) -> None:
        """Sort a counted event (a share, cancellation, click, observation or follower count);
        other types on the counted topics change nothing."""
        d, kind = event.data, event.type
        if kind == _CLICKED:
            self._touch(d.share_id)
            key = (d.share_id, d.clicked_at.astimezone(UTC).date(), d.visitor)  # the UTC day, whatever the offset sent
            counts = self._machine if d.bot else self._clicks
            counts[key] = counts.get(key, 0) + 1
        elif kind == _SHARED:
            self._touch(d.share_id)
            self._shares.append(NewShare(d.share_id, d.advocate_id, d.item_id, d.campaign_id, d.network.value,
                                         d.created_at.astimezone(UTC).date()))
        elif kind == _OBSERVED:
            self._touch(d.share_id)
            self._observed.append((d.share_id, [d.impressions, d.reactions, d.comments, d.reshares], d.observed_at))
        elif kind == _FOLLOWERS:
            known = self._followers.get((d.advocate_id, d.network.value))
            if known is None or known.observed_at < d.observed_at:  # the latest report is the count
                self._followers[(d.advocate_id, d.network.value)] = FollowerCount(
                    d.advocate_id, d.network.value, d.followers, d.observed_at)
        elif kind == _CANCELLED:
            self._touch(d.share_id)
            self._cancelled.append(d.share_id)

    def result(self) -> Tally:
        latest = {share_id: at for share_id, _, at in sorted(self._observed, key=lambda o: o[2])}
        return Tally(
            shares=self._shares, cancelled=self._cancelled,
            clicks=[Clicks(*key, key not in self._clicks, self._clicks.get(key, 0), self._machine.get(key, 0))
                    for key in [*self._clicks, *(k for k in self._machine if k not in self._clicks)]],
            observations=[Observation(s, impressions, reactions, comments, reshares, latest[s])
                          for s, (impressions, reactions, comments, reshares)
                          in keep_highest((s, c) for s, c, _ in self._observed).items()],
            followers=list(self._followers.values()), touched_shares=self._touched)


def tally(events: Iterable[Any]) -> Tally:
    """The Tally of `events` at once."""
    tallying = Tallying()
    for event in events:
        tallying.add(event)
    return tallying.result()
