"""Fan-out of one item to 100,000 consenting advocates: `python -m benchmarks.fanout [--people N]`.

Measures, in one database and one run:
- a bare `INSERT ... SELECT` of N rows (the floor);
- distribution's fan-out statement (audience, feed entries, queued notifications), committed;
- the whole path: ItemPublished on Kafka → distribution → ItemDistributed on Kafka.
"""

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime

import asyncpg

from benchmarks.scratch import scratch
from services.distribution import store
from services.distribution.app import build_service
from services.distribution.config import DistributionSettings, DistributionTopics
from tests.integration.kafka_tools import produce, read_topic

DIGESTS = ("immediate", "daily", "weekly", "off")


async def fill(conn: asyncpg.Connection, people: int) -> None:
    await conn.copy_records_to_table("people", columns=["advocate_id", "role", "languages", "digest", "as_of"], records=[
        (f"adv-{n:07d}", "employee", ["de"], DIGESTS[n % 4], datetime.now(UTC)) for n in range(people)])
    await conn.copy_records_to_table("consents", columns=["advocate_id", "purpose", "valid"], records=[
        (f"adv-{n:07d}", "receive_content", True) for n in range(people)])
    await conn.execute("ANALYZE")


async def timed(what: str, work) -> float:
    started = time.perf_counter()
    result = await work()
    seconds = time.perf_counter() - started
    print(f"{what:<58} {seconds:>7.3f} s  ({result:,} rows)", flush=True)
    return seconds


async def main(people: int) -> None:
    async with scratch(DistributionTopics, partitions=3) as bench:
        service = build_service(bench.settings(DistributionSettings), bench.topics)
        async with service.running():
            async with service.pool.acquire() as conn:
                await fill(conn, people)
                await conn.execute("CREATE TABLE bare (advocate_id text, item_id text, at timestamptz)")
                await timed("bare INSERT ... SELECT", lambda: _bare(conn))
                content = {"language": "de", "audience": {}, "topics": []}
                await timed("fan-out statement (feed + notifications), committed", lambda: _fan_out(conn, content))
                await conn.execute("TRUNCATE feed, pending_notifications, outbox")
            bootstrap, started = bench.config.kafka_bootstrap, time.perf_counter()
            await produce(bootstrap, bench.topics.curation_events, [(b"item-bench-0002", _published_event())])
            [summary] = await read_topic(bootstrap, bench.topics.events, at_least=1, timeout=120)
            size = json.loads(summary.value)["data"]["audience_size"]
            print(f"{'ItemPublished on Kafka -> ItemDistributed on Kafka':<58} {time.perf_counter() - started:>7.3f} s  "
                  f"({size:,} feed entries)")


async def _bare(conn: asyncpg.Connection) -> int:
    async with conn.transaction():
        return int((await conn.execute("INSERT INTO bare SELECT advocate_id, 'item', now() FROM people")).split()[-1])


async def _fan_out(conn: asyncpg.Connection, content: dict) -> int:
    now = datetime.now(UTC)
    async with conn.transaction():
        return await store.fan_out(conn, "item-bench-0001", content, now, now, now)


def _published_event() -> bytes:
    from schemas.curation import ItemContent, ItemPublished, PublishedItem
    return ItemPublished(source="/bench", subject="item-bench-0002", data=PublishedItem(
        item_id="item-bench-0002", published_at=datetime.now(UTC), content=ItemContent(
            source_url="https://example.org/a", title="Benchmark", language="de"))).to_bytes()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().people))
