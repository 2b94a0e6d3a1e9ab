"""Fan-out of one item to N consenting advocates: `python -m benchmarks.fanout [--people N] [--filled K]`
(`make bench` runs it for 100,000 and for 1,000,000 and reports the growth factor, and for
100,000 whose feeds already hold 50 entries each).

Measures, in one database and one run:
- a bare `INSERT ... SELECT` of N rows (the floor);
- distribution's fan-out statement (audience, feed entries, queued notifications), committed;
- the whole path, the reported figure: ItemPublished on Kafka → distribution (its own
  process) → every feed entry committed and ItemDistributed on Kafka.
"""

import argparse
import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from benchmarks.scratch import scratch, served
from harness.kafka import produce, read_topic
from services.distribution import store
from services.distribution.config import DistributionTopics

DIGESTS = ("immediate", "daily", "weekly", "off")


async def fill(conn: asyncpg.Connection, people: int) -> None:
    """`people` consenting people, in no order of their ids, as people join (in the order of
    their ids, every entry of a fan-out went next to the one before: 4.4 s for a million
    where the order of joining takes 10.8 without ADR 0048's sort)."""
    joined = list(range(people))
    random.Random(people).shuffle(joined)
    await conn.copy_records_to_table("people", columns=["advocate_id", "role", "languages", "digest", "as_of"], records=[
        (f"adv-{n:07d}", "employee", ["de"], DIGESTS[n % 4], datetime.now(UTC)) for n in joined])
    await conn.copy_records_to_table("consents", columns=["advocate_id", "purpose", "valid"], records=[
        (f"adv-{n:07d}", "receive_content", True) for n in joined])
    await conn.execute("ANALYZE")


async def fill_feeds(conn: asyncpg.Connection, people: int, entries: int) -> None:
    """`entries` earlier items in every person's feed, one an hour up to now, notified: a
    long-lived feed, where a new item's entries go into every person's range of the feed's
    indexes (`feed_newest_first`: ADR 0044), not onto the end of an empty one."""
    now = datetime.now(UTC)
    for k in range(entries):
        delivered = now - timedelta(hours=entries - k)
        await conn.copy_records_to_table("feed", columns=["advocate_id", "item_id", "delivered_at"], records=[
            (f"adv-{n:07d}", f"item-old-{k:04d}", delivered) for n in range(people)])
    await conn.execute("VACUUM ANALYZE feed")


async def timed(work: Callable[[], Awaitable[int]]) -> tuple[float, int]:
    started = time.perf_counter()
    result = await work()
    return time.perf_counter() - started, result


async def measure(people: int = 100_000, filled: int = 0) -> dict[str, float]:
    """The figures in seconds; `filled`: earlier entries in every person's feed (`fill_feeds`)."""
    async with scratch(DistributionTopics, partitions=3) as bench, served(bench, "distribution"):
        conn = await asyncpg.connect(bench.config.service_dsn(bench.name))
        try:
            await fill(conn, people)
            await fill_feeds(conn, people, filled)
            await conn.execute("CREATE TABLE bare (advocate_id text, item_id text, at timestamptz)")
            bare, _ = await timed(lambda: _bare(conn))
            statement, _ = await timed(lambda: _fan_out(conn, {"language": "de", "audience": {}, "topics": []}))
            # The statement's entries go again, so that the whole path meets the feed as filled.
            await conn.execute("DELETE FROM feed WHERE item_id = 'item-bench-0001'")
            await conn.execute("TRUNCATE outbox")
            await conn.execute("VACUUM feed")
            bootstrap, started = bench.config.kafka_bootstrap, time.perf_counter()
            await produce(bootstrap, bench.topics.curation_events, [(b"item-bench-0002", _published_event())])
            [summary] = await read_topic(bootstrap, bench.topics.items, at_least=1, timeout=120)
            whole = time.perf_counter() - started
            entries = await conn.fetchval("SELECT count(*) FROM feed WHERE item_id = 'item-bench-0002'")
        finally:
            await conn.close()
    assert entries == json.loads(summary.value)["data"]["audience_size"] == people, (entries, people)
    return {"fanout_s": round(whole, 3), "fanout_statement_s": round(statement, 3),
            "fanout_insert_select_s": round(bare, 3), "fanout_ratio_vs_insert_select": round(whole / bare, 1)}


async def _bare(conn: asyncpg.Connection) -> int:
    async with conn.transaction():
        return int((await conn.execute("INSERT INTO bare SELECT advocate_id, 'item', now() FROM people")).split()[-1])


async def _fan_out(conn: asyncpg.Connection, content: dict[str, Any]) -> int:
    now = datetime.now(UTC)
    async with conn.transaction():
        return await store.fan_out(conn, "item-bench-0001", content, now, now, now, new=True)


def _published_event() -> bytes:
    from schemas.curation import ItemContent, ItemPublished, PublishedItem
    # topics=[]: the default, written out for mypy (ops/scenario/commands.py says why).
    return ItemPublished(source="/bench", subject="item-bench-0002", data=PublishedItem(
        item_id="item-bench-0002", published_at=datetime.now(UTC), content=ItemContent(
            source_url="https://example.org/a", title="Benchmark", language="de", topics=[]))).to_bytes()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--filled", type=int, default=0, help="earlier entries in every person's feed")
    args = parser.parse_args()
    for key, value in asyncio.run(measure(args.people, args.filled)).items():
        print(f"{key:<32} {value}")
