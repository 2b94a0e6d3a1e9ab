"""Fan-out of one item to N consenting advocates: `python -m benchmarks.fanout [--people N] [--filled K]`
(`make bench` runs it for 100,000 and for 1,000,000 and reports the growth factor, and for
100,000 whose feeds already hold 50 entries each).

Measures, in one database and one run:
- a bare `INSERT ... SELECT` of N rows (the floor);
- distribution's fan-out statement (audience, feed entries, queued notifications), committed,
  on a connection that takes a generic plan if the statement lets it (as the service's do
  after five fan-outs: ADR 0049);
- the whole path, the reported figure: ItemPublished on Kafka → distribution (its own
  process) → every feed entry committed and ItemDistributed on Kafka.
"""

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from benchmarks.scratch import Scratch, scratch, served
from harness.kafka import produce, read_topic
from services.distribution import store
from services.distribution.config import DistributionTopics

DIGESTS = ("immediate", "daily", "weekly", "off")


def advocate_ids(people: int) -> list[str]:
    """Pseudonymous ids as the identity provider makes them (Keycloak's `sub`: a UUID, 36
    characters), in the order people join: no order of the ids. In the order of their ids
    (as this benchmark had them until ADR 0048) every entry of a fan-out went next to the
    one before in both of the feed's indexes: 4.4 s for a million where the order of joining
    took 10.8 without the sort."""
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://bench.example/people/{n}")) for n in range(people)]


async def fill(conn: asyncpg.Connection, people: list[str]) -> None:
    await conn.copy_records_to_table("people", columns=["advocate_id", "role", "languages", "digest", "as_of"], records=[
        (who, "employee", ["de"], DIGESTS[n % 4], datetime.now(UTC)) for n, who in enumerate(people)])
    await conn.copy_records_to_table("consents", columns=["advocate_id", "purpose", "valid"], records=[
        (who, "receive_content", True) for who in people])
    await conn.execute("ANALYZE")


async def fill_feeds(conn: asyncpg.Connection, people: list[str], entries: int) -> None:
    """`entries` earlier items in every person's feed, one a day up to now, notified: a
    feed in use, where a new item's entries go into every person's range of the feed's
    indexes (`feed_newest_first`: ADR 0044), not onto the end of an empty one."""
    now = datetime.now(UTC)
    for k in range(entries):
        delivered = now - timedelta(days=entries - k)
        await conn.copy_records_to_table("feed", columns=["advocate_id", "item_id", "delivered_at"], records=[
            (who, f"item-old-{k:04d}", delivered) for who in people])
    await conn.execute("VACUUM ANALYZE feed")


async def checkpoint(bench: Scratch) -> None:
    """Before each timed part: the first change of a page after a checkpoint writes the whole
    page to the WAL, so each part pays it for every page it touches, in every run (a
    checkpoint between two parts would otherwise fall to one of them by chance)."""
    admin = await asyncpg.connect(bench.config.admin_dsn)  # the service's role may not checkpoint
    try:
        await admin.execute("CHECKPOINT")
    finally:
        await admin.close()


async def timed(work: Callable[[], Awaitable[int]]) -> tuple[float, int]:
    started = time.perf_counter()
    result = await work()
    return time.perf_counter() - started, result


async def measure(people: int = 100_000, filled: int = 0) -> dict[str, float]:
    """The figures in seconds; `filled`: earlier entries in every person's feed (`fill_feeds`;
    the whole path meets one more, the statement's)."""
    async with scratch(DistributionTopics, partitions=3) as bench, served(bench, "distribution"):
        conn = await asyncpg.connect(bench.config.service_dsn(bench.name))
        try:
            ids = advocate_ids(people)
            await fill(conn, ids)
            await fill_feeds(conn, ids, filled)
            await conn.execute("CREATE TABLE bare (advocate_id text, item_id text, at timestamptz)")
            await checkpoint(bench)
            bare, _ = await timed(lambda: _bare(conn))
            # As a connection of the service's runs it after five fan-outs to large audiences:
            # Postgres then takes the plan it made for any audience (ADR 0049), unless the
            # statement's transaction says otherwise.
            await conn.execute("SET plan_cache_mode = force_generic_plan")
            await checkpoint(bench)
            statement, _ = await timed(lambda: _fan_out(conn, {"language": "de", "audience": {}, "topics": []}))
            # Empty feeds stay empty for the whole path; filled ones keep the statement's entries.
            await conn.execute("TRUNCATE outbox" if filled else "TRUNCATE feed, outbox")
            await checkpoint(bench)
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
