"""The disclosure decision (`domain.suppressed`, `domain.disclosed`, ADR 0020) gives, for any
week, exactly the answer of its first, plain version, kept below as the reference.

Why keep the old code here: which cells a week hides is a privacy property across processes
and versions. Reports and snapshots must agree on what is hidden, and decisions stored or
cached are mixed with ones computed afresh, so a faster way to decide must not change a
single answer. The reference is the first version as it was (issue 19 replaced it because a
dense week at year scale took 85 s and 1.3 GB): it moves every element from region to region
as cells are left out and scans every region for the nearest one. It is slow, but short and
plain, and it is what the ADR describes. It lives only here, as the specification the
random weeks below are checked against: shares and clicks by day, overlapping topics,
campaigns and their sums over all campaigns, cells never shown on their own, with and
without networks, k from 1 to 6, and cells of arbitrary overlapping shapes. Generated
answers in a fixture would cover fewer and stranger weeks than the reference can."""

import heapq
import random
from collections import Counter
from collections.abc import Collection, Hashable, Mapping
from typing import Any

import pytest

from services.metrics.domain import (
    CLICK_DAY,
    EVERY_CAMPAIGN,
    TOTAL,
    TOTAL_KEY,
    Cell,
    disclosed,
    disclosed_numbered,
    suppressed,
)


def reference_suppressed(cells: Mapping[Cell, Collection[Hashable]], contributor: Mapping[Hashable, Any], k: int,
                         never: Collection[Cell] = (), network: Mapping[Hashable, str] | None = None) -> set[Cell]:
    """`domain.suppressed` before issue 19, unchanged but for this docstring."""
    def person(e: Hashable) -> Any:
        return contributor[e[0] if isinstance(e, tuple) else e]

    def kind(e: Hashable) -> tuple[bool, str | None]:
        return isinstance(e, tuple), (network or {}).get(e[0] if isinstance(e, tuple) else e)

    size = {c: len({person(e) for e in elements}) for c, elements in cells.items()}
    hidden = {c for c, n in size.items() if n < k} | set(never)

    def order(c: Cell) -> tuple[int, str, str, str]:
        return size[c], str(c.key), str(c.campaign), c.dimension

    Region = tuple[tuple[bool, str | None], frozenset[Cell]]
    holding: dict[Hashable, set[Cell]] = {}
    for cell, elements in cells.items():
        for e in elements:
            holding.setdefault(e, set()).add(cell)
    region_of: dict[Hashable, Region] = {}
    regions: dict[Region, Counter[Any]] = {}
    for e, in_cells in holding.items():
        region_of[e] = (kind(e), frozenset(in_cells - hidden))
        regions.setdefault(region_of[e], Counter())[person(e)] += 1

    def counts(region: Region) -> bool:
        return bool(region[1])

    rank = {c: i for i, c in enumerate(sorted(cells, key=order))}
    names: dict[Region, tuple[Any, ...]] = {}

    def name(r: Region) -> tuple[Any, ...]:
        if r not in names:
            names[r] = (r[0][0], str(r[0][1]), *sorted(rank[c] for c in r[1]))
        return names[r]

    small = {r for r, people in regions.items() if counts(r) and len(people) < k}
    queue = [(len(regions[r]), name(r), r) for r in small]
    heapq.heapify(queue)
    while small:
        people, _, region = heapq.heappop(queue)
        if region not in small or people != len(regions[region]):
            continue
        kind_, shown_in = region
        others = [r for r in regions if r[0] == kind_ and r != region and counts(r)]
        nearest = min(others, key=lambda r: (len(r[1] ^ shown_in), len(regions[r]), name(r)), default=None)
        apart = (nearest[1] ^ shown_in) if nearest is not None else shown_in
        leave_out = min(apart, key=order)
        hidden.add(leave_out)
        for e in cells[leave_out]:
            old = region_of[e]
            new = (old[0], old[1] - {leave_out})
            region_of[e] = new
            who = person(e)
            regions[old][who] -= 1
            if not regions[old][who]:
                del regions[old][who]
            if not regions[old]:
                del regions[old]
            regions.setdefault(new, Counter())[who] += 1
            for r in (old, new):
                if r in regions and counts(r) and len(regions[r]) < k:
                    small.add(r)
                    heapq.heappush(queue, (len(regions[r]), name(r), r))
                else:
                    small.discard(r)
        if region in small and region in regions:
            heapq.heappush(queue, (len(regions[region]), name(region), region))
    return hidden


def reference_disclosed(atoms: Mapping[Cell, Collection[Hashable]], contributor: Mapping[Hashable, Any],
                        k: int, network: Mapping[Hashable, str] | None = None) -> dict[Cell, bool]:
    """`domain.disclosed` before issue 19, unchanged but for this docstring."""
    cells: dict[Cell, set[Hashable]] = {}
    for atom, elements in atoms.items():
        cells.setdefault(atom, set()).update(elements)
        cells.setdefault(atom._replace(campaign=EVERY_CAMPAIGN), set()).update(elements)
    never = {c for c in cells if c.campaign is None or c.key is None}
    hidden = reference_suppressed(cells, contributor, k, never, network)
    return {c: c not in hidden for c in cells}


NETWORKS = ("linkedin", "x", "mastodon")


def week(rng: random.Random, shares: int, people: int) -> tuple[dict[Cell, set[Hashable]], dict[str, int],
                                                                dict[str, str]]:
    """A week's atoms as reports build them: each share has an item (in a campaign or none,
    in up to two overlapping topics), a network, an org unit (or none), a location and
    clicks on some days; a cell of shares holds its shares' clicks too."""
    campaigns = ["c1", "c2", None][:rng.randint(1, 3)]
    items = [(f"i{j}", rng.choice(campaigns), rng.sample(range(4), rng.randint(0, 2))) for j in range(rng.randint(1, 6))]
    units = [f"ou{j}" for j in range(rng.randint(1, 6))] + [None]
    atoms: dict[Cell, set[Hashable]] = {}
    contributor, network = {}, {}
    for s in range(shares):
        share = f"s{s}"
        contributor[share] = rng.randrange(people)
        network[share] = rng.choice(NETWORKS)
        item, campaign, topics = rng.choice(items)
        days = rng.sample(range(7), rng.randint(0, 3))
        elements = [share, *((share, d) for d in days)]
        for dimension, key in [("item", item), ("network", network[share]), ("org_unit", rng.choice(units)),
                               ("location", f"l{rng.randrange(3)}"), (TOTAL, TOTAL_KEY),
                               *(("topic", f"t{t}") for t in topics)]:
            atoms.setdefault(Cell(dimension, campaign, key), set()).update(elements)
        for d in days:
            atoms.setdefault(Cell(CLICK_DAY, campaign, d), set()).add((share, d))
    return atoms, contributor, network


def shapes(rng: random.Random, shares: int, people: int) -> tuple[dict[Cell, Collection[Hashable]], dict[str, int],
                                                                  dict[str, str], set[Cell]]:
    """Cells of arbitrary shapes: random sets of shares and of (share, day) pairs, some
    nested, some overlapping, some empty, some lists naming an element twice; some never
    shown, one of them in no cell."""
    contributor = {f"s{s}": rng.randrange(people) for s in range(shares)}
    network = {s: rng.choice(NETWORKS) for s in contributor}
    elements: list[Hashable] = [*contributor, *((s, d) for s in contributor for d in range(2))]
    cells: dict[Cell, Collection[Hashable]] = {}
    for j in range(rng.randint(1, 12)):
        if cells and rng.random() < 0.3:  # inside another cell
            inside = list(rng.choice(list(cells.values())))
            members = set(rng.sample(inside, rng.randint(0, len(inside))))
        else:
            members = set(rng.sample(elements, rng.randint(0, len(elements))))
        if rng.random() < 0.2:  # any collection will do, even one that names an element twice
            members = [*members, *members]
        cells[Cell(rng.choice(["topic", "org_unit", CLICK_DAY]), rng.choice(["c1", None]), f"k{j}")] = members
    never = {c for c in cells if rng.random() < 0.15} | {Cell("org_unit", "c1", None)}
    return cells, contributor, network, never


@pytest.mark.parametrize("seed", range(300))
def test_a_weeks_shown_figures_are_the_references_in_small_weeks(seed):
    rng = random.Random(seed)
    atoms, contributor, network = week(rng, rng.randint(1, 40), rng.randint(1, 25))
    k = rng.randint(1, 6)
    by_network = network if rng.random() < 0.5 else None
    assert disclosed(atoms, contributor, k, by_network) == reference_disclosed(atoms, contributor, k, by_network)


@pytest.mark.parametrize("seed", range(300))
def test_the_cells_left_out_are_the_references_for_cells_of_any_shape(seed):
    rng = random.Random(seed)
    cells, contributor, network, never = shapes(rng, rng.randint(1, 20), rng.randint(1, 12))
    k = rng.randint(1, 6)
    by_network = network if rng.random() < 0.5 else None
    assert suppressed(cells, contributor, k, never, by_network) == reference_suppressed(
        cells, contributor, k, never, by_network)


@pytest.mark.parametrize("seed", range(8))
def test_a_weeks_shown_figures_are_the_references_in_medium_weeks(seed):
    rng = random.Random(1000 + seed)
    people = rng.choice([20, 80, 300])
    atoms, contributor, network = week(rng, 400, people)
    k = rng.choice([3, 5])
    by_network = network if seed % 2 else None
    assert disclosed(atoms, contributor, k, by_network) == reference_disclosed(atoms, contributor, k, by_network)


def numbered(rng: random.Random, atoms: dict[Cell, set[Hashable]], contributor: dict[str, int]
             ) -> tuple[list[tuple[Cell, list[int]]], list[int], int]:
    """The week as reports.Release.decided gives it to `disclosed_numbered` (ADR 0028): shares
    numbered first, then (share, day) pairs, in a random order each; each atom split into
    parts (as one per network), which may overlap."""
    elements = {e for of_atom in atoms.values() for e in of_atom}
    shares = [e for e in elements if not isinstance(e, tuple)]
    pairs = [e for e in elements if isinstance(e, tuple)]
    rng.shuffle(shares)
    rng.shuffle(pairs)
    number = {e: n for n, e in enumerate([*shares, *pairs])}
    parts = []
    for atom, of_atom in atoms.items():
        members = sorted(number[e] for e in of_atom)
        cut = rng.randint(0, len(members))
        parts += [(atom, members[:cut]), (atom, members[max(0, cut - 2):])]
    rng.shuffle(parts)
    return parts, [contributor[e[0] if isinstance(e, tuple) else e] for e in [*shares, *pairs]], len(shares)


@pytest.mark.parametrize("seed", range(200))
def test_a_weeks_numbered_elements_give_the_references_shown_figures(seed):
    rng = random.Random(2000 + seed)
    atoms, contributor, _ = week(rng, rng.randint(1, 60) if seed % 10 else 400, rng.randint(1, 40))
    k = rng.randint(1, 6)
    parts, person, clicks_from = numbered(rng, atoms, contributor)
    assert disclosed_numbered(parts, person, clicks_from, k) == reference_disclosed(atoms, contributor, k)
