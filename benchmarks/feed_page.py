"""A person's feed over HTTP when it holds 1,000 items: `python -m benchmarks.feed_page
[--items 1000] [--requests 2000]`.

Distribution runs as its own process on a scratch schema; one person joins and gives
`receive_content`, then `items` items are published to them (on Kafka, as curation would)
and the benchmark waits until all are in the feed. Then `GET /api/me/feed` (first page, the
API's default size) is asked `requests` times by 4 clients at once, signed in with a token
made before the clock starts, and the latency from sending to the whole answer read is
reported (p50, p99). Target (issue #15): p99 ≤ 50 ms.
"""

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from benchmarks.audience import consent_event, joined, until
from benchmarks.front_door import TOKEN_SECONDS
from benchmarks.scratch import scratch, served
from harness.issuer import TestIssuer
from ops.bus import publish
from schemas import curation
from services.distribution.config import DistributionTopics

PERSON = "adv-feed-00001"
CLIENTS = 4


def published(n: int, at: datetime) -> curation.ItemPublished:
    item = f"item-feed-{n:05d}"
    return curation.ItemPublished(source="/advocacy/curation", subject=item, data=curation.PublishedItem(
        item_id=item, published_at=at, content=curation.ItemContent(
            source_url=f"https://example.org/news/{n}", title=f"News number {n}", language="de",
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
            token = issuer.token(PERSON, exp=int(time.time()) + TOKEN_SECONDS)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{process.port}", timeout=30,
                                         headers={"Authorization": f"Bearer {token}"}) as client:
                first = await client.get("/api/me/feed")
                assert first.status_code == 200, (first.status_code, first.text)
                shown = len(first.json()["items"])
                latencies: list[float] = []

                async def ask(n: int) -> None:
                    for _ in range(n):
                        began = time.perf_counter()
                        answer = await client.get("/api/me/feed")
                        latencies.append(time.perf_counter() - began)
                        assert answer.status_code == 200, answer.status_code

                await asyncio.gather(*(ask(requests // CLIENTS) for _ in range(CLIENTS)))
    q = statistics.quantiles(latencies, n=100)
    return {"feed_entries": items, "feed_page_items": shown, "feed_page_p50_ms": round(q[49] * 1000, 1),
            "feed_page_p99_ms": round(q[98] * 1000, 1)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    print(asyncio.run(measure(args.items, args.requests)))
