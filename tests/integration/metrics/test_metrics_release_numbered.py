"""A week's release decided from numbered elements (ADR 0028: share numbers and (share, day)
pair numbers in arrays, `queries.atoms` and `reports.Release.decided`) is the release the
first way gave, which read share ids and contributor tokens into Python sets per cell. That
way is kept below as the reference, as it was but for names: which cells a week hides must
not change with how the week is read (ADR 0020, 0023: kept releases, decisions cached and
decided afresh are mixed).

The week is written straight into the schema, random but seeded: shares of three campaigns
and of none, items with overlapping topics, people who share once or several times, shares
without an org unit, clicks on several days (some by bots, some after the week), a
cancelled share, and a share of the week before and after. Small groups make both primary
and secondary suppression happen (checked, so the comparison is not of all-shown weeks)."""

import random
import uuid
from collections import defaultdict
from collections.abc import Hashable
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from services.metrics import queries, reports
from services.metrics.domain import CLICK_DAY, EVERY_CAMPAIGN, TOTAL, TOTAL_KEY, Cell, Totals, disclosed

WEEK = date(2026, 3, 2)
K = 5


async def reference_atoms(conn: asyncpg.Connection, starts_on: date, ends_on: date) -> list[tuple[Any, ...]]:
    """`queries.atoms` before ADR 0028: (week, campaign, dimension, key, network, totals,
    [(share id, contributor)])."""
    scope = queries.Scope(starts_on, ends_on)
    found: list[tuple[Any, ...]] = []
    for dimension in queries.GROUP_DIMENSIONS:
        topics = " JOIN items i USING (item_id), unnest(i.topics) AS topic" if dimension == "topic" else ""
        rows = await conn.fetch(f"""{scope.per_share}
            SELECT date_trunc('week', s.day)::date AS week, s.campaign_id, {queries.DIMENSIONS[dimension]} AS key,
                   s.network, {queries._SUMS}, array_agg(s.share_id) AS share_ids, array_agg(s.contributor) AS people
            FROM per_share s{topics} GROUP BY 1, 2, 3, 4""", *scope.args)
        found += [(r["week"], r["campaign_id"], dimension, r["key"], r["network"], Totals.of(r),
                   list(zip(r["share_ids"], r["people"], strict=True))) for r in rows]
    rows = await conn.fetch(f"""{scope.per_share}
        SELECT date_trunc('week', s.day)::date AS week, s.campaign_id, cl.day AS key, sum(cl.clicks) AS clicks,
               array_agg(s.share_id) AS share_ids, array_agg(s.contributor) AS people
        FROM (SELECT share_id, day, sum(clicks) AS clicks FROM clicks
              WHERE NOT bot AND share_id IN (SELECT share_id FROM s) GROUP BY 1, 2) cl
        JOIN s USING (share_id) GROUP BY 1, 2, 3""", *scope.args)
    found += [(r["week"], r["campaign_id"], CLICK_DAY, r["key"], "*", Totals(clicks=int(r["clicks"])),
               list(zip(r["share_ids"], r["people"], strict=True))) for r in rows]
    return found


def reference_release(atoms: list[tuple[Any, ...]], k: int) -> reports.Release:
    """`reports.Release.decided` before ADR 0028."""
    release = reports.Release()
    elements: dict[date, dict[Cell, set[Hashable]]] = defaultdict(lambda: defaultdict(set))
    contributor: dict[Hashable, object] = {}
    clicked: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for _, _, dimension, key, _, _, shares in atoms:
        if dimension == CLICK_DAY:
            for share_id, _ in shares:
                clicked[share_id].append((share_id, key))
    for week, campaign, dimension, key, network, totals, shares in atoms:
        contributor.update(shares)
        if dimension == CLICK_DAY:
            summed: set[Hashable] = {(share_id, key) for share_id, _ in shares}
        else:
            summed = {e for share_id, _ in shares for e in (share_id, *clicked[share_id])}
        cells = [Cell(dimension, campaign, key)]
        if dimension == "network":
            cells.append(Cell(TOTAL, campaign, TOTAL_KEY))
        for cell in cells:
            elements[week][cell].update(summed)
            for c in (cell, cell._replace(campaign=EVERY_CAMPAIGN)):
                release.values[week][c][network] = release.values[week][c].get(network, Totals()) + totals
    release.shown = {week: disclosed(cells, contributor, k) for week, cells in elements.items()}
    return release


async def write_week(conn: asyncpg.Connection, seed: int) -> None:
    """About 600 shares of WEEK by 120 people (tokens; a third share several times), as the
    module docstring says."""
    rng = random.Random(seed)
    campaigns = ["camp-a", "camp-b", "camp-c", None]
    topics = [f"topic-{t}" for t in range(9)]
    items = [(f"item-{i:03d}", rng.choice(campaigns), rng.sample(topics, rng.choice((1, 2, 3)))) for i in range(14)]
    await conn.executemany("INSERT INTO items (item_id, campaign_id, title, topics) VALUES ($1, $2, $1, $3)", items)
    people = [(uuid.UUID(int=rng.getrandbits(128)), f"ou-{rng.randrange(7)}" if rng.random() < 0.9 else None,
               f"loc-{rng.randrange(4)}") for _ in range(120)]
    shares, clicks, counters = [], [], []
    for n in range(600):
        token, org_unit, location = rng.choice(people[:40]) if rng.random() < 0.4 else rng.choice(people)
        item, campaign, _ = rng.choice(items)
        day = WEEK + timedelta(days=rng.randrange(-1, 8))  # a few the day before and after the week
        share = f"sh-{n:05d}"
        shares.append((share, item, campaign, rng.choice(("linkedin", "x", "facebook", "xing", "mastodon")), day,
                       org_unit, location, token, rng.randrange(0, 900), n == 7))
        for visitor in range(rng.choice((0, 1, 1, 2, 4))):
            clicks.append((share, day + timedelta(days=rng.randrange(0, 12)), f"v{visitor}", rng.random() < 0.1,
                           rng.randrange(1, 4)))
        counters.append((share, rng.randrange(10_000), rng.randrange(50), rng.randrange(9), rng.randrange(5)))
    await conn.executemany("""INSERT INTO shares (share_id, item_id, campaign_id, network, day, org_unit, location,
                                                  contributor, potential_reach, cancelled)
                              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""", shares)
    await conn.executemany("""INSERT INTO clicks (share_id, day, visitor, bot, clicks) VALUES ($1, $2, $3, $4, $5)
                              ON CONFLICT DO NOTHING""", clicks)
    await conn.executemany("""INSERT INTO engagement (share_id, impressions, reactions, comments, reshares,
                                                      observed_at) VALUES ($1, $2, $3, $4, $5, now())""", counters)


@pytest.mark.parametrize("seed", [1, 2])
async def test_a_week_decided_from_numbered_elements_is_released_as_from_share_ids(metrics, seed):
    conn = await asyncpg.connect(metrics.settings.database_url)
    try:
        await write_week(conn, seed)
        expected = reference_release(await reference_atoms(conn, WEEK, WEEK + timedelta(days=6)), K)
        kept = await reports.decide(conn, [WEEK], K, cached=False)
        cached = await reports.decide(conn, [WEEK], K)
    finally:
        await conn.close()
    shown = expected.shown[WEEK]
    assert sum(shown.values()) > 20 and sum(not s for s in shown.values()) > 20, "a week with cells shown and hidden"
    assert sum(c.campaign is not None and c.key is not None and not s for c, s in shown.items()) > 5, \
        "cells hidden that a report could show (not only those never shown on their own)"
    for release in (kept, cached):
        assert release.shown == expected.shown
        assert release.values == expected.values
        assert sorted(release.rows(), key=repr) == sorted(expected.rows(), key=repr)
