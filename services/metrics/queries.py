"""Metrics' reads: figures for a scope, grouped by one dimension and network; the
leaderboard; the consents and names reports need.

A scope is the shares created in a period (optionally of one campaign, or attributed to
one advocate) and everything they achieved so far. Groups come with their count of
distinct contributors, so the caller can suppress those below k.
"""

import itertools
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import asyncpg

from services.metrics.domain import CLICK_DAY, Totals
from services.runtime.unit_of_work import Connection

# What a group is keyed by; `topic` expands an item into each of its topics.
DIMENSIONS = {
    "item": "s.item_id", "network": "s.network", "org_unit": "s.org_unit", "location": "s.location", "topic": "topic",
}

# The shares of a scope and, per share, its clicks (bots left out) and its counters. A
# person's scope starts from their attributed shares (indexed by advocate), so "my impact"
# reads only that person's rows; a group scope starts from the shares of the period.
_GROUP_SHARES = """SELECT s.* FROM shares s
    WHERE NOT s.cancelled AND s.day BETWEEN $1 AND $2 AND ($3::text IS NULL OR s.campaign_id = $3)"""
_PERSON_SHARES = """SELECT s.* FROM attributed_shares a JOIN shares s USING (share_id)
    WHERE a.advocate_id = $4 AND NOT s.cancelled AND s.day BETWEEN $1 AND $2
      AND ($3::text IS NULL OR s.campaign_id = $3)"""
_PER_SHARE = """
WITH s AS ({shares}), c AS (
    SELECT share_id, sum(clicks) AS clicks, count(*) AS unique_clicks
    FROM clicks JOIN s USING (share_id) WHERE NOT bot GROUP BY share_id
), per_share AS (
    SELECT s.*, coalesce(c.clicks, 0) AS clicks, coalesce(c.unique_clicks, 0) AS unique_clicks,
           coalesce(e.impressions, 0) AS impressions, coalesce(e.reactions, 0) AS reactions,
           coalesce(e.comments, 0) AS comments, coalesce(e.reshares, 0) AS reshares
    FROM s LEFT JOIN c USING (share_id) LEFT JOIN engagement e USING (share_id)
)"""
_SUMS = """count(*) AS shares, sum(clicks) AS clicks, sum(unique_clicks) AS unique_clicks,
    sum(impressions) AS impressions, sum(reactions) AS reactions, sum(comments) AS comments,
    sum(reshares) AS reshares, sum(potential_reach) AS potential_reach"""


@dataclass(frozen=True)
class Scope:
    """The shares created from `starts_on` to `ends_on` (inclusive), of one campaign if
    named, attributed to one advocate if named, and everything they achieved so far."""

    starts_on: date
    ends_on: date
    campaign_id: str | None = None
    advocate_id: str | None = None  # only that person's attributed shares

    @property
    def per_share(self) -> str:
        """The scope's CTEs: `s` (its shares) and `per_share` (each with its figures)."""
        return _PER_SHARE.format(shares=_GROUP_SHARES if self.advocate_id is None else _PERSON_SHARES)

    @property
    def args(self) -> tuple[date | str | None, ...]:
        period = (self.starts_on, self.ends_on, self.campaign_id)
        return period if self.advocate_id is None else (*period, self.advocate_id)


async def by_network(conn: Connection, scope: Scope, dimension: str) -> list[asyncpg.Record]:
    """Sums per (key, network); the key is NULL where a share lacks it (no org unit)."""
    key = DIMENSIONS[dimension]
    topics = " JOIN items i USING (item_id), unnest(i.topics) AS topic" if dimension == "topic" else ""
    return await conn.fetch(f"""{scope.per_share}
        SELECT {key} AS key, s.network, {_SUMS} FROM per_share s{topics} GROUP BY 1, 2 ORDER BY 1, 2""", *scope.args)


async def contributors(conn: Connection, scope: Scope, dimension: str) -> dict[str, int]:
    """Distinct people behind each group, counted by token: who they are is not needed."""
    key = DIMENSIONS[dimension]
    rows = await conn.fetch(
        f"{scope.per_share} SELECT {key} AS key, count(DISTINCT contributor) AS n FROM per_share s GROUP BY 1",
        *scope.args)
    return {r["key"]: r["n"] for r in rows if r["key"] is not None}


GROUP_DIMENSIONS = ("network", "topic", "item", "org_unit", "location")


class Atom(NamedTuple):
    """The sums of one week, campaign (None: none), key of a dimension and network, and the
    elements behind them by their numbers in `Atoms`: its shares, or (CLICK_DAY) its
    (share, day) pairs."""

    week: date
    campaign_id: str | None
    dimension: str
    key: object
    network: str
    totals: Totals
    elements: "array[int]"


class Atoms(NamedTuple):
    """A scope's atoms with its elements numbered (ADR 0028): its shares 0 to S-1 in the order
    of their ids, then their (share, day) pairs with clicks, from S on, in the order of share
    and day, so each share's pairs follow one another. Ints in arrays, not share ids and
    tokens in sets: a dense week is ~38,000 shares and ~150,000 pairs, each in a dozen cells."""

    atoms: list[Atom]
    person: "array[int]"  # by share number: its contributor, numbered (tokens in their order)
    first_pair: "array[int]"  # by share number, and one more: the number of its first pair, less S

    @property
    def shares(self) -> int:
        return len(self.person)

    def pairs(self, share: int) -> range:
        """The numbers of `share`'s (share, day) pairs."""
        return range(len(self.person) + self.first_pair[share], len(self.person) + self.first_pair[share + 1])


# The scope's shares numbered (`n`, from 0 in the order of their ids) with their contributor's
# number (`person`), and (`pairs`) their (share, day) pairs with clicks numbered in the order
# of share and day (`pair`, from 0), both as Atoms says. Clicks are read by share, through
# their key, as `_PER_SHARE` reads them.
_NUMBERED = _PER_SHARE.format(shares="""SELECT s.*, (row_number() OVER (ORDER BY s.share_id) - 1)::int AS n,
           (dense_rank() OVER (ORDER BY s.contributor) - 1)::int AS person
    FROM shares s
    WHERE NOT s.cancelled AND s.day BETWEEN $1 AND $2 AND ($3::text IS NULL OR s.campaign_id = $3)""") + """,
pairs AS (
    SELECT s.n, cl.day, cl.clicks, (row_number() OVER (ORDER BY s.n, cl.day) - 1)::int AS pair
    FROM (SELECT share_id, day, sum(clicks) AS clicks FROM clicks
          WHERE NOT bot AND share_id IN (SELECT share_id FROM s) GROUP BY 1, 2) cl JOIN s USING (share_id)
)"""


def _by_dimension(dimension: str) -> str:
    """`_ATOMS`' rows of one dimension: (dimension, week, campaign, key as text, network, sums, share numbers)."""
    topics = " JOIN items i USING (item_id), unnest(i.topics) AS topic" if dimension == "topic" else ""
    return f"""SELECT '{dimension}' AS dimension, date_trunc('week', s.day)::date AS week, s.campaign_id,
           ({DIMENSIONS[dimension]})::text AS key, s.network, {_SUMS}, array_agg(s.n) AS elements,
           NULL::int[] AS people, NULL::int[] AS pairs
    FROM per_share s{topics} GROUP BY 2, 3, 4, 5"""


# Every atom of the scope, and one more row (dimension NULL) with each share's person and
# how many pairs it has, both by share number. ONE statement, so one snapshot in any
# isolation level: statements of their own would each number the shares as the table is
# then, and in READ COMMITTED a share stored or cancelled between two of them would shift
# the numbers (a cell counting other shares' people). The numbered CTEs are computed once.
_ATOMS = _NUMBERED + "\n" + "\nUNION ALL ".join([
    *(_by_dimension(dimension) for dimension in GROUP_DIMENSIONS),
    # The day as ISO text whatever the session's DateStyle (read back with date.fromisoformat).
    f"""SELECT '{CLICK_DAY}', date_trunc('week', s.day)::date, s.campaign_id, to_char(p.day, 'YYYY-MM-DD'), '*', NULL,
           sum(p.clicks),
           NULL, NULL, NULL, NULL, NULL, NULL, array_agg(p.pair + (SELECT count(*) FROM s)::int), NULL, NULL
    FROM pairs p JOIN s USING (n) GROUP BY 2, 3, 4""",
    """SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           (SELECT array_agg(person ORDER BY n) FROM s),
           (SELECT array_agg(coalesce(p.pairs, 0) ORDER BY s.n) FROM s LEFT JOIN
                (SELECT n, count(*)::int AS pairs FROM pairs GROUP BY n) p USING (n))"""])


async def atoms(conn: Connection, starts_on: date, ends_on: date) -> Atoms:
    """Every group figure's finest sums over the shares created from `starts_on` to `ends_on`
    (whole weeks), of every campaign: per dimension of GROUP_DIMENSIONS and per click day
    (network "*", clicks only), with the shares and pairs behind them by number (`Atoms`).
    Disclosure is decided on these (domain.disclosed_numbered). Read in one statement
    (`_ATOMS`): the numbers and every sum are of one snapshot, whatever the transaction."""
    found: list[Atom] = []
    person, first_pair = array("i"), array("i", [0])
    for r in await conn.fetch(_ATOMS, starts_on, ends_on, None):
        dimension = r["dimension"]
        if dimension is None:  # whose each share is, how many pairs each has
            person = array("i", r["people"] or ())
            first_pair.extend(itertools.accumulate(r["pairs"] or ()))
        elif dimension == CLICK_DAY:
            found.append(Atom(r["week"], r["campaign_id"], CLICK_DAY, date.fromisoformat(r["key"]), "*",
                              Totals(clicks=int(r["clicks"])), array("i", r["elements"])))
        else:
            found.append(Atom(r["week"], r["campaign_id"], dimension, r["key"], r["network"], Totals.of(r),
                              array("i", r["elements"])))
    return Atoms(found, person, first_pair)


# A kept cell (ADR 0023): week, cell, network, whether shown, then the figures in Totals' order.
RELEASE_COLUMNS = ["week", "campaign", "dimension", "key", "network", "shown", "shares", "clicks", "unique_clicks",
                   "impressions", "reactions", "comments", "reshares", "potential_reach"]


async def weeks_to_decide(conn: Connection, starts_on: date, ends_on: date, k: int) -> list[date]:
    """The weeks (Mondays) from `starts_on` to `ends_on` whose release may not tell them:
    never released, released with another k, or changed since a release past its
    `good_until` (the release job is behind)."""
    rows = await conn.fetch("""SELECT d.week FROM weeks_due d LEFT JOIN week_releases r ON r.week = d.week AND r.k = $3
        WHERE d.week BETWEEN $1 AND $2 AND (r.week IS NULL OR r.good_until < now())
        UNION SELECT week FROM week_releases WHERE week BETWEEN $1 AND $2 AND k <> $3 ORDER BY 1""",
                            starts_on, ends_on, k)
    return [r["week"] for r in rows]


async def released_cells(conn: Connection, starts_on: date, ends_on: date, k: int, campaign: str | None,
                         excluding: Sequence[date]) -> list[asyncpg.Record]:
    """The kept cells (RELEASE_COLUMNS) of the weeks from `starts_on` to `ends_on`
    released with `k`, but those in `excluding`; of one campaign ('*': all) if named."""
    return await conn.fetch(f"""SELECT {", ".join(f"c.{name}" for name in RELEASE_COLUMNS)}
        FROM week_cells c JOIN week_releases r USING (week)
        WHERE c.week BETWEEN $1 AND $2 AND r.k = $3 AND ($4::text IS NULL OR c.campaign = $4)
          AND c.week <> ALL($5::date[])""", starts_on, ends_on, k, campaign, list(excluding))


async def weeks_with_shares(conn: Connection, scope: str, ids: Sequence[str], until: date) -> list[date]:
    """The weeks (their Mondays) in which items or campaigns (`scope`) in `ids` have shares
    created up to `until`."""
    rows = await conn.fetch("""SELECT DISTINCT date_trunc('week', day)::date AS week FROM shares
        WHERE NOT cancelled AND day <= $3 AND CASE $1 WHEN 'item' THEN item_id ELSE campaign_id END = ANY($2::text[])
        ORDER BY 1""", scope, list(ids), until)
    return [r["week"] for r in rows]


async def clicks_by_day(conn: Connection, scope: Scope) -> list[asyncpg.Record]:
    """Clicks on the scope's shares by the day they happened."""
    return await conn.fetch(
        f"""{scope.per_share} SELECT cl.day, sum(cl.clicks) AS clicks FROM clicks cl JOIN s USING (share_id)
            WHERE NOT cl.bot GROUP BY cl.day ORDER BY cl.day""", *scope.args)


# Only people who allowed both attribution (their attributed shares exist only then) and
# the leaderboard; nobody else appears or is counted. Ranked by clicks, then shares.
_LEADERBOARD = """
WITH board AS (
    SELECT a.advocate_id, a.share_id
    FROM consents l JOIN attributed_shares a USING (advocate_id) JOIN shares s USING (share_id)
    WHERE l.purpose = 'leaderboard' AND l.valid
      AND NOT s.cancelled AND s.day BETWEEN $1 AND $2 AND ($3::text IS NULL OR s.campaign_id = $3)
), people AS (
    SELECT b.advocate_id, count(*) AS shares, coalesce(sum(c.clicks), 0) AS clicks
    FROM board b LEFT JOIN LATERAL (
        SELECT sum(clicks) AS clicks FROM clicks WHERE share_id = b.share_id AND NOT bot) c ON true
    GROUP BY b.advocate_id
), ranked AS (
    SELECT advocate_id, shares, clicks, rank() OVER (ORDER BY clicks DESC, shares DESC) AS rank,
           row_number() OVER (ORDER BY clicks DESC, shares DESC, advocate_id) AS position
    FROM people
)
SELECT rank, advocate_id, shares, clicks FROM ranked WHERE position <= $4 OR advocate_id = $5 ORDER BY position"""


class Standing(NamedTuple):
    rank: int  # 1 for the most clicks; people with equal clicks and shares share a rank
    advocate_id: str
    shares: int
    clicks: int


async def leaderboard(conn: Connection, starts_on: date, ends_on: date, campaign_id: str | None, *, size: int,
                      caller: str) -> list[Standing]:
    """The ranking of the shares created in the period (of one campaign if named): its
    first `size` places, then `caller`'s own if it lies beyond them (absent if they have no
    attributed share there)."""
    rows = await conn.fetch(_LEADERBOARD, starts_on, ends_on, campaign_id, size, caller)
    return [Standing(r["rank"], r["advocate_id"], r["shares"], int(r["clicks"])) for r in rows]


async def titles(conn: Connection, item_ids: list[str]) -> dict[str, str]:
    rows = await conn.fetch("SELECT item_id, title FROM items WHERE item_id = ANY($1::text[])", item_ids)
    return {r["item_id"]: r["title"] for r in rows}


async def campaign(conn: Connection, campaign_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM campaigns WHERE campaign_id = $1", campaign_id)


async def valid_consents(conn: Connection, advocate_id: str) -> set[str]:
    """The purposes metrics tracks (share_attribution, network_reach, leaderboard) that
    `advocate_id` has a valid consent to; empty for someone metrics never heard of."""
    rows = await conn.fetch("SELECT purpose FROM consents WHERE advocate_id = $1 AND valid", advocate_id)
    return {r["purpose"] for r in rows}
