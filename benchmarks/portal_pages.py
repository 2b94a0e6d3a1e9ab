"""The portal's pages, timed on the server: `python -m benchmarks.portal_pages [--requests 200]`.

Against the platform `make run` left running (its portal on ADVOCACY_HTTP_PORT_BASE + 4,
its Keycloak, its demo users): each demo user signs in through the real code flow, then
each page is asked for `requests` times by 4 clients at once (`--clients`). The portal answers every
request with `Server-Timing: app;dur=<ms>` (web.py), the time from its receiving the
request to its answer, calls to the services included; its p50 and p99 are reported per
page, with the size of the HTML. Target (issue #18): p99 ≤ 100 ms per page; the consent
centre's HTML under 50 KB. Figures go to bench/portal.json.
"""

import argparse
import asyncio
import json
import re
import statistics
import time
from html import unescape
from pathlib import Path
from typing import Any

import httpx

from deploy.local.config import StackConfig

PAGES = {  # demo user -> their pages
    "advocate": ["/consent", "/feed", "/shares", "/impact", "/leaderboard"],
    "editor": ["/editor/items", "/editor/items/new", "/editor/campaigns", "/editor/sources"],
    "approver": ["/editor/review"],
    "analyst": ["/reports"],
}
CLIENTS = 4
OUT = Path(__file__).resolve().parents[1] / "bench" / "portal.json"


async def signed_in(portal: str, username: str) -> httpx.AsyncClient:
    """A client holding the portal's session cookie of `username` (password = username)."""
    client = httpx.AsyncClient(base_url=portal, timeout=30)
    to_issuer = await client.get("/auth/login", params={"next": "/"})
    async with httpx.AsyncClient(follow_redirects=True, timeout=30) as browser:
        form = await browser.get(to_issuer.headers["location"])
        found = re.search(r'<form[^>]*action="([^"]+)"', form.text)
        if found is None:
            raise ValueError(f"no sign-in form at {form.url} (HTTP {form.status_code})")
        action = unescape(found.group(1))
        cookies = "; ".join(f"{c.name}={c.value}" for c in browser.cookies.jar)  # Secure: sent by hand
        back = await browser.post(action, data={"username": username, "password": username},
                                  headers={"Cookie": cookies}, follow_redirects=False)
    callback = back.headers["location"]
    await client.get(callback[len(portal):])
    return client


async def measure(requests: int, clients: int = CLIENTS) -> dict[str, Any]:
    config = StackConfig.from_env()
    portal = f"http://127.0.0.1:{config.http_ports['portal']}"
    results: dict[str, Any] = {}
    for username, paths in PAGES.items():
        client = await signed_in(portal, username)
        try:
            for path in paths:
                timings: list[float] = []
                sizes: set[int] = set()

                async def ask(n: int, path: str = path, timings: list[float] = timings, sizes: set[int] = sizes,
                              client: httpx.AsyncClient = client) -> None:
                    for _ in range(n):
                        answer = await client.get(path)
                        assert answer.status_code == 200, (path, answer.status_code)
                        timings.append(float(answer.headers["server-timing"].split("dur=")[1]))
                        sizes.add(len(answer.content))

                started = time.perf_counter()
                await asyncio.gather(*(ask(requests // clients) for _ in range(clients)))
                elapsed = time.perf_counter() - started
                timings.sort()
                results[path] = {"p50_ms": round(statistics.median(timings), 1),
                                 "p99_ms": round(timings[max(0, int(len(timings) * 0.99) - 1)], 1),
                                 "html_kb": round(max(sizes) / 1024, 1), "rps": round(len(timings) / elapsed)}
        finally:
            await client.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="requests per page (default 200)")
    parser.add_argument("--clients", type=int, default=CLIENTS, help=f"clients at once (default {CLIENTS})")
    args = parser.parse_args()
    results = asyncio.run(measure(args.requests, args.clients))
    print(f"{'page':<22}{'p50 ms':>8}{'p99 ms':>8}{'HTML KB':>9}{'req/s':>7}   target p99 <= 100 ms")
    for path, r in results.items():
        verdict = "met" if r["p99_ms"] <= 100 else "MISSED"
        print(f"{path:<22}{r['p50_ms']:>8}{r['p99_ms']:>8}{r['html_kb']:>9}{r['rps']:>7}   {verdict}")
    print(f"consent centre HTML {results['/consent']['html_kb']} KB (target < 50 KB)")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
