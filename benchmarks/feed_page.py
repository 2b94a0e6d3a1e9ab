"""A person's feed over HTTP when it holds 1,000 items: `python -m benchmarks.feed_page
[--items 1000] [--requests 2000]`.

Distribution runs as its own process on a scratch schema; one person joins and gives
`receive_content`, then `items` items are published to them (on Kafka, as curation would)
and the benchmark waits until all are in the feed. Then `GET /api/me/feed` (first page, the
API's default size) is asked `requests` times by 4 clients at once, signed in with a token
made before the clock starts, and the latency from sending to the whole answer read is
reported (p50, p99), and the service process's CPU per page (user + system, from /proc),
which a busy machine disturbs far less than a latency. Target (issue #15): p99 ≤ 50 ms. The client is aiohttp's
(benchmarks/front_door.py): httpx took as much CPU per request as the service answering it,
on the same two cores.
"""

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

import asyncpg

from benchmarks.audience import consent_event, joined, until
from benchmarks.command_cpu import cpu_seconds
from benchmarks.front_door import FrontDoor
from benchmarks.scratch import scratch, served
from harness.issuer import TestIssuer
from ops.bus import publish
from schemas import curation
from services.distribution.config import DistributionTopics

PERSON = "adv-feed-00001"
CLIENTS = 4


def published(n: int, at: datetime) -> curation.ItemPublished:
    item = f"item-feed-{n:05d}"
    # topics=[]: the default, written out for mypy (ops/scenario/commands.py says why).
    return curation.ItemPublished(source="/advocacy/curation", subject=item, data=curation.PublishedItem(
        item_id=item, published_at=at, content=curation.ItemContent(
            source_url=f"https://example.org/news/{n}", title=f"News number {n}", language="de", topics=[],
            summary="What happened, in two sentences. " * 3, share_texts={"linkedin": f"Read this: {n}"})))


async def measure(items: int = 1000, requests: int = 2000) -> dict[str, float]:
    with TestIssuer() as issuer:
        async with scratch(DistributionTopics) as bench, \
                served(bench, "distribution", identity=issuer.settings()) as process:
            bootstrap = bench.config.kafka_bootstrap
            conn = await asyncpg.connect(bench.config.service_dsn(bench.name))
            try:
                await publish(bootstrap, bench.topics.directory, [joined(PERSON)])
                await publish(bootstrap, bench.topics.consent_events, [consent_event(PERSON, True)])
                await until(conn, "SELECT count(*) FROM consents WHERE valid", 1)
                start = datetime.now(UTC) - timedelta(days=1)
                await publish(bootstrap, bench.topics.curation_events,
                              [published(n, start + timedelta(seconds=n)) for n in range(items)])
                await until(conn, "SELECT count(*) FROM feed", items)
            finally:
                await conn.close()
            async with FrontDoor(issuer, process.port, connections=CLIENTS) as door:
                door.sign_in([PERSON])
                first = await door.get(PERSON, "/api/me/feed")
                assert first.status_code == 200, (first.status_code, first.text)
                shown = len(first.json()["items"])
                latencies: list[float] = []

                async def ask(n: int) -> None:
                    for _ in range(n):
                        began = time.perf_counter()
                        answer = await door.get(PERSON, "/api/me/feed")
                        latencies.append(time.perf_counter() - began)
                        assert answer.status_code == 200, answer.status_code

                cpu = cpu_seconds(process.process.pid)
                await asyncio.gather(*(ask(requests // CLIENTS) for _ in range(CLIENTS)))
                cpu = cpu_seconds(process.process.pid) - cpu
    q = statistics.quantiles(latencies, n=100)
    return {"feed_entries": items, "feed_page_items": shown, "feed_page_p50_ms": round(q[49] * 1000, 1),
            "feed_page_p99_ms": round(q[98] * 1000, 1), "feed_page_cpu_us": round(cpu / len(latencies) * 1e6)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    print(asyncio.run(measure(args.items, args.requests)))
