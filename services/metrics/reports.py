"""Reports: the figures of a scope as plain data (the JSON), and that data rendered as one
self-contained HTML page with inline SVG charts, or as CSV.

A campaign or period report holds only group figures, over whole weeks that are over, and
only those that neither show nor, subtracted from others, tell the figures of fewer than k
distinct contributors (domain.disclosed, ADR 0020). "My impact" holds one advocate's attributed
figures and is shown only to them. Neither holds the leaderboard (queries.leaderboard,
shown only to people in it). Nothing is written to disk: a report is rendered per request.
"""

import asyncio
import csv
import io
import itertools
import threading
from array import array
from collections import OrderedDict, defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import escape
from pathlib import Path
from string import Template
from typing import Any

import asyncpg

from services.metrics import charts, queries
from services.metrics.domain import (
    CLICK_DAY,
    EVERY_CAMPAIGN,
    TOTAL,
    TOTAL_KEY,
    Cell,
    RateCard,
    Totals,
    aligned_period,
    disclosed_numbered,
    figures,
    last_closed_day,
    shown_over_weeks,
)
from services.metrics.queries import Scope
from services.runtime.unit_of_work import Connection

_TEMPLATE = Template(Path(__file__).with_name("report.html").read_text())
TOP_ITEMS = 10
GROUPS = ("network", "topic", "org_unit", "location")  # the breakdowns a report may hold, in this order


def _grouped(rows: Sequence[asyncpg.Record]) -> dict[str, dict[str, Totals]]:
    """(key, network) sums → {key: {network: Totals}}; rows without a key are left out."""
    per_key: dict[str, dict[str, Totals]] = defaultdict(dict)
    for row in rows:
        if row["key"] is not None:
            per_key[row["key"]][row["network"]] = Totals.of(row)
    return per_key


class Release:
    """The group figures of whole weeks, each shown or not by domain.disclosed: what reports
    and snapshots may show of them (ADR 0020). Decided from the weeks' atoms (`decided`),
    or read as kept when the weeks were released (`kept`, ADR 0023)."""

    def __init__(self) -> None:
        # Per week and cell (atoms and their sums over campaigns): the sums per network.
        self.values: dict[date, dict[Cell, dict[str, Totals]]] = defaultdict(lambda: defaultdict(dict))
        self.shown: dict[date, dict[Cell, bool]] = {}

    @classmethod
    def decided(cls, atoms: queries.Atoms, k: int, cached: bool = True) -> "Release":
        """Decided from `atoms`; `cached`: each week's decision looked up and kept in this
        process's cache (a release made to be kept gains nothing from it).

        Elements are numbered (queries.Atoms, ADR 0028): a cell of shares sums their clicks
        too, so it holds its shares' numbers and those of their (share, day) pairs; a cell of
        clicks by day holds its pairs. Each atom's elements stay an array of its own (a cell
        of several networks or campaigns is their union, which domain.disclosed_numbered
        forms one cell at a time), not a set per cell."""
        release = cls()
        parts: dict[date, list[tuple[Cell, array[int]]]] = defaultdict(list)
        for a in atoms.atoms:
            if a.dimension == CLICK_DAY:
                elements = a.elements
            else:
                elements = array("i", a.elements)
                for share in a.elements:
                    elements.extend(atoms.pairs(share))
            cells = [Cell(a.dimension, a.campaign_id, a.key)]
            if a.dimension == "network":  # every share has one network: its cells make the totals
                cells.append(Cell(TOTAL, a.campaign_id, TOTAL_KEY))
            for cell in cells:
                parts[a.week].append((cell, elements))
                for c in (cell, cell._replace(campaign=EVERY_CAMPAIGN)):
                    known = release.values[a.week][c].get(a.network, Totals())
                    release.values[a.week][c][a.network] = known + a.totals
        # A pair's contributor is its share's.
        person = [*atoms.person, *(p for share in range(atoms.shares) for p in
                                   itertools.repeat(atoms.person[share], len(atoms.pairs(share))))]
        # Not split by network (domain.suppressed's `network`): a group's EMV still weighs its
        # networks apart, a residual ADR 0020 states.
        release.shown = {week: _decided(week, cells, person, atoms.shares, k) if cached
                         else disclosed_numbered(cells, person, atoms.shares, k)
                         for week, cells in parts.items()}
        return release

    @classmethod
    def kept(cls, rows: Sequence[asyncpg.Record]) -> "Release":
        """From kept cells (queries.RELEASE_COLUMNS), as `rows` made them."""
        release = cls()
        for r in rows:
            key = date.fromisoformat(r["key"]) if r["dimension"] == CLICK_DAY else r["key"]
            cell = Cell(r["dimension"], r["campaign"], key)
            release.values[r["week"]][cell][r["network"]] = Totals(*r[6:])  # the figures, in column order
            release.shown.setdefault(r["week"], {})[cell] = r["shown"]
        return release

    def merged(self, other: "Release") -> "Release":
        """Both releases' weeks (none in both)."""
        release = Release()
        release.values.update(self.values)
        release.values.update(other.values)
        release.shown = {**self.shown, **other.shown}
        return release

    def rows(self) -> list[tuple[object, ...]]:
        """The cells to keep, as queries.RELEASE_COLUMNS: not those of no campaign or without a
        key, which no report or snapshot shows on their own. A cell not shown is kept with
        zeros: that it exists matters (a figure over weeks is shown only if shown in each week
        it has shares in), its figures are never read."""
        hidden = vars(Totals()).values()
        return [(week, cell.campaign, cell.dimension, str(cell.key), network, shown,
                 *(vars(t).values() if shown else hidden))
                for week, cells in self.values.items() for cell, networks in cells.items()
                if cell.campaign is not None and cell.key is not None
                for shown in (self.shown[week][cell],) for network, t in networks.items()]

    def keys(self, dimension: str, campaign: str) -> set[Any]:
        """The keys `dimension` has shares for in `campaign` (EVERY_CAMPAIGN: any), in some week."""
        return {c.key for week in self.values.values() for c in week
                if c.dimension == dimension and c.campaign == campaign and c.key is not None}

    def over_weeks(self, cell: Cell) -> dict[str, Totals] | None:
        """`cell` summed over all weeks, per network; None unless shown in every week it has shares in."""
        if not shown_over_weeks(self.shown.values(), cell):
            return None
        per_network: dict[str, Totals] = defaultdict(Totals)
        for week in self.values.values():
            for network, t in week.get(cell, {}).items():
                per_network[network] += t
        return dict(per_network)

    def over_shown_weeks(self, cell: Cell) -> dict[str, Totals] | None:
        """`cell` summed over the weeks it is shown in, per network; None if there are none."""
        weeks = [week for monday, week in self.values.items() if cell in week and self.shown[monday][cell]]
        if not weeks:
            return None
        per_network: dict[str, Totals] = defaultdict(Totals)
        for week in weeks:
            for network, t in week[cell].items():
                per_network[network] += t
        return dict(per_network)


# A week that changed since its release (ADR 0023) is decided per report, up to seconds for
# a dense week, though its decision changes only with its data: kept per process for the
# weeks last asked about, by their content.
_DECISIONS: OrderedDict[tuple[date, int, int, int], dict[Cell, bool]] = OrderedDict()
_DECISIONS_KEPT = 1024
_DECISIONS_LOCK = threading.Lock()  # decisions are made in worker threads (`released`)


def _decided(week: date, cells: list[tuple[Cell, "array[int]"]], person: list[int], clicks_from: int, k: int
             ) -> dict[Cell, bool]:
    # Numbers follow share ids, tokens and days in order (queries.Atoms): the same week gives
    # the same numbers, and the numbers with whose they are and where clicks begin are all
    # that the decision reads.
    # Each cell's elements are formed one cell at a time (a set of every cell's at once was
    # most of a dense week's memory, ADR 0028).
    parts: dict[Cell, list[array[int]]] = defaultdict(list)
    for cell, elements in cells:
        parts[cell].append(elements)
    content = frozenset((cell, hash(array("i", sorted(set().union(*of_cell))).tobytes()))
                        for cell, of_cell in parts.items())
    key = (week, k, clicks_from, hash((content, array("i", person).tobytes())))
    with _DECISIONS_LOCK:
        known = _DECISIONS.get(key)
        if known is not None:
            _DECISIONS.move_to_end(key)
            return known
    decided = disclosed_numbered(cells, person, clicks_from, k)
    with _DECISIONS_LOCK:
        _DECISIONS[key] = decided
        if len(_DECISIONS) > _DECISIONS_KEPT:
            _DECISIONS.popitem(last=False)
    return decided


async def released(conn: Connection, starts_on: date, ends_on: date, k: int, campaign: str | None = None
                   ) -> Release:
    """The release of the weeks from `starts_on` to `ends_on` (Mondays to Sundays), of one
    campaign's cells (EVERY_CAMPAIGN: the sums over all) if named: kept releases where they
    tell the figures as they are now, the other weeks decided now (ADR 0023), in a worker
    thread, as a busy week takes seconds of CPU and the event loop serves everything else
    meanwhile."""
    live = await queries.weeks_to_decide(conn, starts_on, ends_on, k)
    kept = Release.kept(await queries.released_cells(conn, starts_on, ends_on, k, campaign, live))
    if not live:
        return kept
    return kept.merged(await decide(conn, live, k))


async def decide(conn: Connection, weeks: Sequence[date], k: int, cached: bool = True) -> Release:
    """The release of `weeks` (Mondays), decided from their shares and clicks as they are now,
    one week after the other: what a week is decided from is let go before the next is read."""
    release = Release()
    for week in weeks:
        atoms = await queries.atoms(conn, week, week + timedelta(days=6))
        release = release.merged(await asyncio.to_thread(Release.decided, atoms, k, cached))
        del atoms
    return release


async def gather(conn: Connection, scope: Scope, card: RateCard, k: int, *, title: str,
                 as_of: datetime) -> dict[str, Any]:
    """Everything a report shows, as plain data: `title`, `as_of`, `scope`, `totals`,
    `clicks_by_day`, `by_network`, `top_items`, `by_topic`, `rates`; for a group scope
    (no advocate) also `by_org_unit`, `by_location`, `k_anonymity` and `closed_through`.
    Figures are those of schemas.metrics.Figures, EMV in `card`'s currency. Read in one
    snapshot (REPEATABLE READ).

    A group report covers whole weeks (the period widened to them) that are over by
    `as_of` (the rest of the period is not counted), and shows only what domain.disclosed
    lets it show in every week (ADR 0020): a figure left out vanishes, the totals become
    null."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        if scope.advocate_id is not None:
            return await _personal(conn, scope, card, title=title, as_of=as_of)
        starts_on, ends_on = aligned_period(scope.starts_on, scope.ends_on)
        closed = min(ends_on, last_closed_day(as_of.date()))
        campaign = scope.campaign_id or EVERY_CAMPAIGN
        release = await released(conn, starts_on, closed, k, campaign)

        def group(dimension: str) -> dict[Any, dict[str, Totals]]:
            shown = {key: release.over_weeks(Cell(dimension, campaign, key))
                     for key in release.keys(dimension, campaign)}
            return {key: networks for key, networks in shown.items() if networks is not None}

        totals = release.over_weeks(Cell(TOTAL, campaign, TOTAL_KEY))
        items = sorted(((i, figures(n, card)) for i, n in group("item").items()),
                       key=lambda kv: (-kv[1]["clicks"], kv[0]))[:TOP_ITEMS]
        names = await queries.titles(conn, [item_id for item_id, _ in items])
        report: dict[str, Any] = {
            "title": title, "as_of": as_of,
            "scope": {"starts_on": str(starts_on), "ends_on": str(ends_on), "campaign_id": scope.campaign_id},
            "closed_through": str(closed),
            "totals": figures(totals, card) if totals is not None else None,
            "clicks_by_day": [{"day": str(day), "clicks": n["*"].clicks}
                              for day, n in sorted(group(CLICK_DAY).items())],
            "by_network": [{"network": n, **figures({n: t[n]}, card)} for n, t in sorted(group("network").items())],
            "top_items": [{"item_id": i, "title": names.get(i, i), **f} for i, f in items],
            "by_topic": [{"topic": t, **figures(n, card)} for t, n in sorted(group("topic").items())],
            "rates": card.as_dict(),
        }
        for dimension in ("org_unit", "location"):
            report[f"by_{dimension}"] = [{dimension: key, **figures(n, card)}
                                         for key, n in sorted(group(dimension).items())]
        report["k_anonymity"] = k
    return report


async def _personal(conn: Connection, scope: Scope, card: RateCard, *, title: str, as_of: datetime
                    ) -> dict[str, Any]:
    """One person's own figures ("my impact"): their attributed shares, shown only to them."""
    async def group(dimension: str) -> dict[str, dict[str, Any]]:
        per_key = _grouped(await queries.by_network(conn, scope, dimension))
        return {key: figures(networks, card) for key, networks in per_key.items()}

    networks = _grouped(await queries.by_network(conn, scope, "network"))
    totals = figures({network: sum(t.values(), Totals()) for network, t in networks.items()}, card)
    items = sorted((await group("item")).items(), key=lambda kv: (-kv[1]["clicks"], kv[0]))[:TOP_ITEMS]
    names = await queries.titles(conn, [item_id for item_id, _ in items])
    return {
        "title": title, "as_of": as_of,
        "scope": {"starts_on": str(scope.starts_on), "ends_on": str(scope.ends_on),
                  "campaign_id": scope.campaign_id},
        "totals": totals,
        "clicks_by_day": [{"day": str(r["day"]), "clicks": int(r["clicks"])}
                          for r in await queries.clicks_by_day(conn, scope)],
        "by_network": [{"network": n, **figures(t, card)} for n, t in sorted(networks.items())],
        "top_items": [{"item_id": i, "title": names.get(i, i), **f} for i, f in items],
        "by_topic": [{"topic": t, **f} for t, f in sorted((await group("topic")).items())],
        "rates": card.as_dict(),
    }


def render_html(report: dict[str, Any]) -> str:
    """The report (as `gather` returns it) as one HTML page: no script, nothing fetched."""
    t = report["totals"]
    withheld = [("Totals", "withheld: they would tell the figures of fewer than k people")]
    summary = withheld if t is None else [
        ("Shares", t["shares"]), ("Clicks", t["clicks"]), ("Unique clicks", t["unique_clicks"]),
        ("Impressions", t["impressions"]), ("Reactions", t["reactions"]), ("Comments", t["comments"]),
        ("Reshares", t["reshares"]), ("Potential reach", t["potential_reach"]),
        ("Engagement rate", f"{t['engagement_rate']:.2%}"),
        ("Earned media value", f"{t['emv']:,.2f} {t['currency']}")]
    chart_list = [
        charts.column_chart("clicks-over-time", "Clicks over time",
                            [(d["day"], d["clicks"]) for d in report["clicks_by_day"]]),
        charts.bar_chart("clicks-by-network", "Clicks by network",
                         [(n["network"], n["clicks"]) for n in report["by_network"]]),
        charts.bar_chart("top-items", "Top items by clicks", [(i["title"], i["clicks"]) for i in report["top_items"]]),
    ]
    sections = [_table(f"By {d.replace('_', ' ')}", d, report[f"by_{d}"]) for d in GROUPS if f"by_{d}" in report]
    rates = report["rates"]
    rate_rows = [{"network": n, **r} for n, r in rates["rates"].items()]
    return _TEMPLATE.substitute(
        title=escape(report["title"]), scope=escape(f"{report['scope']['starts_on']} – {report['scope']['ends_on']}"),
        as_of=report["as_of"].astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        summary="".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in summary),
        charts="".join(f"<figure><figcaption>{escape(caption)}</figcaption>{c}</figure>" for caption, c in zip(
            ("Clicks over time", "Clicks by network", "Top items by clicks"), chart_list, strict=True)),
        sections="".join(sections),
        k_note=escape(f"Counted: whole weeks up to {report['closed_through']}. Figures that would tell "
                      f"those of fewer than {report['k_anonymity']} people are not shown.")
        if "k_anonymity" in report else "",
        formula=escape(rates["formula"]),
        rates=_rows_table(f"Rates used ({rates['currency']})", ["network", "cpm", "cpc", "cpe"], rate_rows))


def _table(title: str, key: str, groups: list[dict[str, Any]]) -> str:
    columns = [key, "shares", "clicks", "unique_clicks", "impressions", "engagement_rate", "emv"]
    return _rows_table(title, columns, groups)


def _rows_table(title: str, columns: list[str], rows: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(_cell(c, r[c]))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<section><h2>{escape(title)}</h2><table><tr>{head}</tr>{body}</table></section>"


def _cell(column: str, value: Any) -> str:
    if column == "engagement_rate":
        return f"{value:.2%}"
    if column == "emv":
        return f"{value:,.2f}"
    return str(value)


# --- CSV -------------------------------------------------------------------------------------

FIGURES = ("shares", "clicks", "unique_clicks", "impressions", "reactions", "comments", "reshares",
           "potential_reach", "engagement_rate", "emv", "currency")
CSV_COLUMNS = ("dimension", "group", "title", *FIGURES)


def render_csv(report: dict[str, Any]) -> str:
    """The report's totals and groups as CSV (RFC 4180, CRLF line ends), one row per group,
    in CSV_COLUMNS: `dimension` is `total`, `network`, `topic`, `org_unit`, `location`, `item`
    (the top items; `title` holds the item's title) or `click_day` (clicks on that day; the
    other figures are empty there, as clicks by day are not a group of shares). The figures
    are those of the JSON and the HTML: `engagement_rate` as a fraction, `emv` in `currency`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_rows(report))
    return out.getvalue()


def _csv_rows(report: dict[str, Any]) -> Iterator[list[str]]:
    def row(dimension: str, group: str, title: str, figures: dict[str, Any]) -> list[str]:
        values = ["" if figures.get(f) is None else _csv_figure(f, figures[f]) for f in FIGURES]
        return [dimension, _text(group), _text(title), *values]

    yield row("total", "", "", report["totals"] or {})  # withheld: no figures
    for dimension in GROUPS:
        for g in report.get(f"by_{dimension}", ()):
            yield row(dimension, g[dimension], "", g)
    for item in report["top_items"]:
        yield row("item", item["item_id"], item["title"], item)
    for day in report["clicks_by_day"]:
        yield row("click_day", day["day"], "", {"clicks": day["clicks"]})


def _csv_figure(name: str, value: Any) -> str:
    if name == "emv":
        return f"{value:.2f}"
    if isinstance(value, float):  # fixed-point, as spreadsheets of every locale read: 3e-05 is 0.00003
        return format(Decimal(repr(value)), "f")
    return _text(value) if name == "currency" else str(value)


def _text(value: str) -> str:
    """A text cell that a spreadsheet would take for a formula (it starts with =, +, -, @,
    a tab or a carriage return) gets a leading apostrophe, so it shows as text and runs
    nothing (OWASP, "CSV Injection"): titles come from editors and from outside feeds."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
