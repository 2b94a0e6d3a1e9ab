"""A year of history in metrics: `python -m benchmarks.year [--advocates 100000]
[--shares 2000000]`.

The benchmark writes a year (52 weeks from Monday 2025-01-06) straight into metrics' schema,
in SQL: `advocates` people in 100 org units and 50 locations, 40 items a week (two topics
each of 50; four in five in a campaign of 100 items), `shares` shares spread evenly over the
weeks on five networks (each person's shares weeks apart), ten requests of its link per share
over four days (one in ten a machine's, counted apart from the clicks), a connector's counters
for every share; 30 % of the people allow share_attribution and network_reach, 10 % the
leaderboard. Clicks are stored as they are once their day's visitor hashes are forgotten.

Then, with metrics as its own process, signed in over HTTP:

1. **Release**: every week is due, as after a deployment of ADR 0023 on an existing year.
   The service's `week-releases` schedule decides and keeps them one after another; the
   time to release all 52, the longest week, and the service's peak memory (VmHWM): the
   cost of ADR 0020's disclosure control, paid once per week.
2. **Reports**, from a fresh process: the whole year and one campaign, as JSON and as HTML,
   five times each (the slowest counts), and the process's peak memory after them;
   "my impact" for `impacts` different people, one after the other: p50, p99.

Targets (issue #19): each report ≤ 1 s with ≤ 300 MB; "my impact" ≤ 50 ms; the releasing
process ≤ 300 MB (DESIGN.md, per service).

`--one-week`: after the fill, only the densest week (the most shares, then campaigns: the
most cells) is due; the service releases it alone, and the benchmark reports its time and
the process's peak memory, before and after (no reports).
"""

import argparse
import asyncio
import itertools
import statistics
import time
from datetime import date, timedelta

import asyncpg
import httpx

from benchmarks.command_cpu import cpu_seconds
from benchmarks.front_door import TOKEN_SECONDS
from benchmarks.scratch import scratch, served
from harness.issuer import TestIssuer
from services.metrics.config import MetricsTopics

START = date(2025, 1, 6)  # a Monday
WEEKS, ITEMS_PER_WEEK, ITEMS_PER_CAMPAIGN = 52, 40, 100
RUNS = 5

# Person p's n-th share is share n with (n * 7919) mod advocates = p: a person shares every
# `advocates` shares, i.e. weeks apart. p % 10 < 3 allow attribution (their token is theirs),
# the others' shares carry a token per person and week (ADR 0019).
_FILL = [
    """INSERT INTO campaigns (campaign_id, name, starts_on, ends_on)
       SELECT 'campaign-' || lpad(c::text, 4, '0'), 'Campaign ' || c, $1::date + (c * $2::int / $3::int) * 7, $1::date + (c * $2::int / $3::int) * 7 + 20
       FROM generate_series(0, $4::int * $3::int / $2::int) c""",
    """INSERT INTO items (item_id, campaign_id, title, topics)
       SELECT 'item-' || lpad(i::text, 6, '0'), CASE WHEN i % 5 = 0 THEN NULL ELSE 'campaign-' || lpad((i / $2::int)::text, 4, '0') END,
              'Item ' || i, ARRAY['t' || i % 50, 't' || (i % 50 + 1 + (i / 50) % 49) % 50]
       FROM generate_series(0, $1::int * $3::int - 1) i""",
    """INSERT INTO consents (advocate_id, purpose, valid)
       SELECT 'adv-' || lpad(p::text, 6, '0'), purpose, true
       FROM generate_series(0, $1::int - 1) p, unnest(ARRAY['share_attribution', 'network_reach', 'leaderboard']) purpose
       WHERE p % 10 < 3 AND (purpose <> 'leaderboard' OR p % 10 = 0)""",
    """INSERT INTO contributors (advocate_id, token)
       SELECT 'adv-' || lpad(p::text, 6, '0'), md5('adv' || p)::uuid FROM generate_series(0, $1::int - 1) p WHERE p % 10 < 3""",
    """WITH g AS (SELECT n, least(n / ($1::int / $3::int), $3::int - 1) AS w, (n::bigint * 7919) % $2::int AS p
                 FROM generate_series(0, $1::int - 1) n),
            x AS (SELECT n, w, p, w * $4::int + n % $4::int AS i FROM g)
       INSERT INTO shares (share_id, item_id, campaign_id, network, day, org_unit, location, contributor,
                           potential_reach)
       SELECT 'sh-' || n, 'item-' || lpad(i::text, 6, '0'), CASE WHEN i % 5 = 0 THEN NULL ELSE 'campaign-' || lpad((i / $6::int)::text, 4, '0') END,
              (ARRAY['linkedin', 'x', 'facebook', 'xing', 'mastodon'])[1 + (n / $4::int) % 5],
              $5::date + w * 7 + (n / 200) % 7, 'ou-' || p % 100, 'loc-' || p % 50,
              CASE WHEN p % 10 < 3 THEN md5('adv' || p)::uuid ELSE md5('adv' || p || '/' || w)::uuid END,
              CASE WHEN p % 10 < 3 THEN 100 + p % 900 ELSE 0 END
       FROM x""",
    """INSERT INTO attributed_shares (share_id, advocate_id)
       SELECT 'sh-' || n, 'adv-' || lpad(p::text, 6, '0')
       FROM (SELECT n, (n::bigint * 7919) % $2::int AS p FROM generate_series(0, $1::int - 1) n) g WHERE p % 10 < 3""",
    """INSERT INTO clicks (share_id, day, visitor, bot, clicks, machine_requests)
       SELECT s.share_id, s.day + g % 4, '#' || g, g = 9, (g <> 9)::int, (g = 9)::int
       FROM shares s, generate_series(0, 9) g""",
    """INSERT INTO engagement (share_id, impressions, reactions, comments, reshares, observed_at)
       SELECT share_id, 200 + abs(hashtext(share_id)) % 5000, abs(hashtext(share_id)) % 40,
              abs(hashtext(share_id)) % 7, abs(hashtext(share_id)) % 5, now() FROM shares""",
    "INSERT INTO weeks_due (week) SELECT DISTINCT date_trunc('week', day)::date FROM shares",
]


async def fill(conn: asyncpg.Connection, advocates: int, shares: int) -> None:
    await conn.execute("SET synchronous_commit = off")
    args = [(START, ITEMS_PER_CAMPAIGN, ITEMS_PER_WEEK, WEEKS), (WEEKS, ITEMS_PER_CAMPAIGN, ITEMS_PER_WEEK),
            (advocates,), (advocates,), (shares, advocates, WEEKS, ITEMS_PER_WEEK, START, ITEMS_PER_CAMPAIGN),
            (shares, advocates), (), (), ()]
    for statement, values in zip(_FILL, args, strict=True):
        await conn.execute(statement, *values)
    await conn.execute("ANALYZE")


async def timed(client: httpx.AsyncClient, path: str, token: str, runs: int = 1) -> list[float]:
    """Seconds per GET of `path`, each answered 200."""
    took = []
    for _ in range(runs):
        began = time.perf_counter()
        response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
        took.append(time.perf_counter() - began)
        assert response.status_code == 200, response.text[:500]
    return took


# The week with the most cells: the most shares, then the most campaigns.
_DENSEST = """SELECT date_trunc('week', day)::date FROM shares GROUP BY 1
              ORDER BY count(*) DESC, count(DISTINCT campaign_id) DESC, 1 LIMIT 1"""


async def measure(advocates: int = 100_000, shares: int = 2_000_000, impacts: int = 200, one_week: bool = False
                  ) -> dict[str, object]:
    year = f"from={START}&to={START + timedelta(days=7 * WEEKS - 1)}"
    with TestIssuer() as issuer:
        async with scratch(MetricsTopics) as bench:
            conn = await asyncpg.connect(bench.config.service_dsn(bench.name))
            try:
                async with served(bench, "metrics", identity=issuer.settings(), snapshot_seconds=1):
                    pass  # its migrations make the schema
                began = time.perf_counter()
                await fill(conn, advocates, shares)
                filled_s = time.perf_counter() - began
                clicks = await conn.fetchval("SELECT sum(clicks + machine_requests) FROM clicks")
                if one_week:
                    week = await conn.fetchval(_DENSEST)
                    await conn.execute("DELETE FROM weeks_due WHERE week <> $1", week)
                async with served(bench, "metrics", identity=issuer.settings(), snapshot_seconds=1) as process:
                    rss_start = process.peak_rss_mb()
                    began, cpu = time.perf_counter(), cpu_seconds(process.process.pid)
                    while await conn.fetchval("SELECT count(*) FROM weeks_due"):
                        await asyncio.sleep(1)
                    release_s = time.perf_counter() - began
                    release_cpu_s = cpu_seconds(process.process.pid) - cpu
                    release_rss = process.peak_rss_mb()
                if one_week:
                    return {"year_advocates": advocates, "year_shares": shares, "year_clicks": clicks,
                            "year_fill_s": round(filled_s), "year_week": str(week),
                            "year_week_shares": await conn.fetchval(
                                "SELECT count(*) FROM shares WHERE date_trunc('week', day)::date = $1", week),
                            "year_week_cells": await conn.fetchval("SELECT count(*) FROM week_cells"),
                            "year_week_release_s": round(release_s, 1),
                            "year_week_release_cpu_s": round(release_cpu_s, 1),
                            "year_week_release_rss_mb": {"start": rss_start, "peak": release_rss}}
                released = [r["released_at"] for r in await conn.fetch(
                    "SELECT released_at FROM week_releases ORDER BY released_at")]
                cells = await conn.fetchval("SELECT count(*) FROM week_cells")
                campaign = await conn.fetchval(
                    "SELECT campaign_id FROM shares WHERE campaign_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
                people = [r["advocate_id"] for r in await conn.fetch(
                    "SELECT advocate_id FROM consents WHERE purpose = 'share_attribution' ORDER BY advocate_id LIMIT $1",
                    impacts)]
            finally:
                await conn.close()
            expires = int(time.time()) + TOKEN_SECONDS
            analyst = issuer.token("analyst-00000001", realm_roles=("analyst",), exp=expires)
            async with served(bench, "metrics", identity=issuer.settings(), snapshot_seconds=1) as process, \
                    httpx.AsyncClient(base_url=f"http://127.0.0.1:{process.port}", timeout=600) as client:
                rss_before = process.peak_rss_mb()
                reports = {
                    f"{label}_{form}": max(await timed(client, f"/api/reports?{year}{extra}&format={form}", analyst, RUNS))
                    for label, extra in (("year", ""), ("campaign", f"&campaign_id={campaign}"))
                    for form in ("json", "html")}
                rss_reports = process.peak_rss_mb()
                impact = [t for who in people for t in await timed(
                    client, f"/api/me/impact?{year}&format=json", issuer.token(who, exp=expires))]
    q = statistics.quantiles(impact, n=100)
    steps = [(b - a).total_seconds() for a, b in itertools.pairwise(released)]
    return {"year_advocates": advocates, "year_shares": shares, "year_clicks": clicks, "year_fill_s": round(filled_s),
            "year_release_s": round(release_s, 1), "year_release_week_max_s": round(max(steps, default=0.0), 1),
            "year_release_rss_mb": release_rss, "year_week_cells": cells,
            **{f"year_report_{key}_ms": round(s * 1000) for key, s in reports.items()},
            "year_report_ms": round(max(reports.values()) * 1000),
            "year_report_rss_mb": {"before": rss_before, "peak": rss_reports}, "year_report_peak_rss_mb": rss_reports,
            "my_impact_p50_ms": round(q[49] * 1000, 1), "my_impact_p99_ms": round(q[98] * 1000, 1)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--advocates", type=int, default=100_000)
    parser.add_argument("--shares", type=int, default=2_000_000)
    parser.add_argument("--impacts", type=int, default=200)
    parser.add_argument("--one-week", action="store_true", help="release the densest week alone, no reports")
    args = parser.parse_args()
    for key, value in asyncio.run(measure(args.advocates, args.shares, args.impacts, args.one_week)).items():
        print(f"{key:<32} {value}")
