"""Reports: the figures of a scope as JSON, and as one HTML file with inline SVG charts.

A campaign or period report holds only group figures: org units and locations with fewer
than k distinct contributors are left out, and the leaderboard holds only people who
allowed it. "My impact" holds one advocate's attributed figures and is written for them.
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from html import escape
from pathlib import Path
from string import Template
from typing import Any

import asyncpg

from services.metrics import charts, queries
from services.metrics.domain import RateCard, Totals, figures, suppress_small_groups
from services.metrics.queries import Scope
from services.runtime.unit_of_work import Connection

_TEMPLATE = Template(Path(__file__).with_name("report.html").read_text())


def _grouped(rows: Sequence[asyncpg.Record], card: RateCard) -> dict[str, dict[str, Any]]:
    """(key, network) sums → figures per key, EMV at each network's rates."""
    per_key: dict[str, dict[str, Totals]] = defaultdict(dict)
    for row in rows:
        if row["key"] is not None:
            per_key[row["key"]][row["network"]] = Totals.of(row)
    return {key: figures(networks, card) for key, networks in per_key.items()}


async def gather(conn: Connection, scope: Scope, card: RateCard, k: int) -> dict[str, Any]:
    """Everything a report shows, as plain data (the JSON file)."""
    async def group(dimension: str) -> dict[str, dict[str, Any]]:
        return _grouped(await queries.by_network(conn, scope, dimension), card)

    totals = (await group("all")).get("all", figures({}, card))
    items = sorted((await group("item")).items(), key=lambda kv: (-kv[1]["clicks"], kv[0]))[:10]
    names = await queries.titles(conn, [item_id for item_id, _ in items])
    report: dict[str, Any] = {
        "scope": {"starts_on": str(scope.starts_on), "ends_on": str(scope.ends_on), "campaign_id": scope.campaign_id},
        "totals": totals,
        "clicks_by_day": [{"day": str(r["day"]), "clicks": r["clicks"]}
                          for r in await queries.clicks_by_day(conn, scope)],
        "by_network": [{"network": n, **f} for n, f in sorted((await group("network")).items())],
        "top_items": [{"item_id": i, "title": names.get(i, i), **f} for i, f in items],
        "by_topic": [{"topic": t, **f} for t, f in sorted((await group("topic")).items())],
        "rates": card.as_dict(),
    }
    if scope.advocate_id is None:  # group figures and rankings: never in a personal report
        for dimension in ("org_unit", "location"):
            people = await queries.contributors(conn, scope, dimension)
            groups = [{dimension: key, "contributors": people.get(key, 0), **f}
                      for key, f in (await group(dimension)).items()]
            # The count of contributors is what suppression needs, not something to show.
            report[f"by_{dimension}"] = [{key: v for key, v in g.items() if key != "contributors"}
                                         for g in sorted(suppress_small_groups(groups, k), key=lambda g: g[dimension])]
        report["k_anonymity"] = k
        report["leaderboard"] = [dict(r) for r in await queries.leaderboard(conn, scope)]
    return report


def write(report: dict[str, Any], directory: Path, report_id: str, title: str) -> tuple[Path, Path]:
    """Both files, named by report id: rendering the same command again overwrites them."""
    directory.mkdir(parents=True, exist_ok=True)
    directory = directory.resolve()  # the event tells readers where: an absolute path means the same to all
    html_path, json_path = directory / f"{report_id}.html", directory / f"{report_id}.json"
    json_path.write_text(json.dumps({"report_id": report_id, "title": title, **report}, indent=2, default=str))
    html_path.write_text(render_html(report, title))
    return html_path, json_path


def render_html(report: dict[str, Any], title: str) -> str:
    t = report["totals"]
    summary = [("Shares", t["shares"]), ("Clicks", t["clicks"]), ("Unique clicks", t["unique_clicks"]),
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
    sections = [_table(f"By {d.replace('_', ' ')}", d, report[f"by_{d}"])
                for d in ("network", "topic", "org_unit", "location") if f"by_{d}" in report]
    if "leaderboard" in report:
        sections.append(_rows_table("Leaderboard (only people who opted in)", ["advocate_id", "shares", "clicks"],
                                    report["leaderboard"]))
    rates = report["rates"]
    rate_rows = [{"network": n, **r} for n, r in rates["rates"].items()]
    return _TEMPLATE.substitute(
        title=escape(title), scope=escape(f"{report['scope']['starts_on']} – {report['scope']['ends_on']}"),
        summary="".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in summary),
        charts="".join(f"<figure><figcaption>{escape(caption)}</figcaption>{c}</figure>" for caption, c in zip(
            ("Clicks over time", "Clicks by network", "Top items by clicks"), chart_list, strict=True)),
        sections="".join(sections),
        k_note=escape(f"Groups with fewer than {report['k_anonymity']} people are not shown.")
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
