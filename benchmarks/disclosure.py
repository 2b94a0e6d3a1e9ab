"""One dense week's disclosure decision (`domain.disclosed`, ADR 0020) at year scale, no stack:
`python -m benchmarks.disclosure [shares] [people]`. Issue 19's year (2,000,000 shares by
100,000 advocates) is about 38,000 shares a week by up to 30,000 people. Each share has an
item (of 40, in 3 campaigns or none, each in 2 of 60 topics), a network (of 5), an org unit
(of 100), a location (of 50) and clicks on 3 days of the week: about 760 cells. Prints the
cells, how many are shown, the seconds of the decision (wall and CPU), and peak RSS in MB: of the whole
process, and before the decision (the week's atoms themselves)."""

import random
import resource
import sys
import time
from collections.abc import Hashable
from typing import Any

from services.metrics.domain import CLICK_DAY, TOTAL, TOTAL_KEY, Cell, disclosed

K = 5
NETWORKS = ("linkedin", "x", "facebook", "xing", "mastodon")


def dense_week(shares: int, people: int, seed: int = 1) -> tuple[dict[Cell, set[Hashable]], dict[Hashable, Any]]:
    """The atoms of one week (what each cell of each campaign sums) and whose each share is."""
    rng = random.Random(seed)
    items = [(f"i{j}", rng.choice(["c1", "c2", "c3", None]), rng.sample(range(60), 2)) for j in range(40)]
    atoms: dict[Cell, set[Hashable]] = {}
    contributor: dict[Hashable, Any] = {}
    for s in range(shares):
        share = f"s{s}"
        contributor[share] = rng.randrange(people)
        item, campaign, topics = rng.choice(items)
        values = [("item", item), ("network", rng.choice(NETWORKS)), ("org_unit", f"ou{rng.randrange(100)}"),
                  ("location", f"l{rng.randrange(50)}"), (TOTAL, TOTAL_KEY), *(("topic", f"t{t}") for t in topics)]
        days = rng.sample(range(7), 3)
        elements = [share, *((share, d) for d in days)]  # a cell of shares holds its shares' clicks
        for dimension, key in values:
            atoms.setdefault(Cell(dimension, campaign, key), set()).update(elements)
        for d in days:
            atoms.setdefault(Cell(CLICK_DAY, campaign, d), set()).add((share, d))
    return atoms, contributor


def peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main() -> None:
    shares, people = (int(a) for a in (sys.argv[1:] or ["38000", "30000"]))
    atoms, contributor = dense_week(shares, people)
    before = peak_mb()
    started, cpu = time.perf_counter(), time.process_time()
    shown = disclosed(atoms, contributor, K)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{shares} shares by {people} people: {len(shown)} cells, {sum(shown.values())} shown, "
          f"{seconds:.2f} s ({cpu:.2f} s CPU), peak {peak_mb()} MB (atoms alone {before} MB)")


if __name__ == "__main__":
    main()
