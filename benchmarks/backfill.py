"""A person says yes while many items are active: `python -m benchmarks.backfill [--items 5000]`.

Distribution runs as its own process on a scratch schema holding `items` active items (written
straight into its tables, as years of curation would have left them) and one person in the
directory. Measured:
- the backfill statement alone (`store.backfill`: every active item whose audience reaches
  the person, into their feed, notifications queued, the items' reach counted), committed;
- the whole path, the reported figure: `consent.given` on Kafka → distribution → every
  feed entry committed (polled every 5 ms), for `PEOPLE` people saying yes one after another,
  each sent by a producer started before the clock (as the consent service's relay is);
  `backfill_ms` is the slowest of them, `backfill_p50_ms` their median.
Target (issue #19): ≤ 200 ms with 5,000 active items.
"""

import argparse
import asyncio
import json
import statistics
import time
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaProducer

from benchmarks.audience import consent_event, joined
from benchmarks.scratch import scratch, served
from ops.bus import publish
from services.distribution import store
from services.distribution.config import DistributionTopics

OTHER = "adv-backfill-000"
PEOPLE = [f"adv-backfill-{n:03d}" for n in range(1, 6)]


async def fill(conn: asyncpg.Connection, items: int) -> None:
    now = datetime.now(UTC)
    await conn.copy_records_to_table("items", columns=["item_id", "status", "content", "updated_at"], records=[
        (f"item-{n:06d}", "active", json.dumps({
            "source_url": f"https://example.org/news/{n}", "title": f"News {n}", "language": "de",
            "topics": ["product"], "audience": {"roles": ["employee"] if n % 2 else []}}), now)
        for n in range(items)])
    await conn.execute("ANALYZE items")


async def until_fed(conn: asyncpg.Connection, who: str, items: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while await conn.fetchval("SELECT count(*) FROM feed WHERE advocate_id = $1", who) < items:
        if time.monotonic() > deadline:
            raise AssertionError(f"{who}'s feed not filled within {timeout}s")
        await asyncio.sleep(0.005)


async def measure(items: int = 5000) -> dict[str, float]:
    async with scratch(DistributionTopics) as bench, served(bench, "distribution"):
        bootstrap = bench.config.kafka_bootstrap
        conn = await asyncpg.connect(bench.config.service_dsn(bench.name))
        try:
            await fill(conn, items)
            await publish(bootstrap, bench.topics.directory, [joined(who) for who in (OTHER, *PEOPLE)])
            while await conn.fetchval("SELECT count(*) FROM people") < 1 + len(PEOPLE):
                await asyncio.sleep(0.05)
            # The statement alone, for another person whose consent row is written here; committed.
            await conn.execute("INSERT INTO consents (advocate_id, purpose, valid) VALUES ($1, 'receive_content', true)",
                               OTHER)
            now = datetime.now(UTC)
            began = time.perf_counter()
            async with conn.transaction():
                reached = await store.backfill(conn, OTHER, now, now, now)
            statement = time.perf_counter() - began
            assert reached == items, (reached, items)
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
            await producer.start()
            wholes = []
            try:
                for who in PEOPLE:
                    event = consent_event(who, True)
                    began = time.perf_counter()
                    await producer.send_and_wait(bench.topics.consent_events, event.to_bytes(), key=who.encode())
                    await until_fed(conn, who, items)
                    wholes.append(time.perf_counter() - began)
            finally:
                await producer.stop()
        finally:
            await conn.close()
    return {"backfill_items": items, "backfill_ms": round(max(wholes) * 1000, 1),
            "backfill_p50_ms": round(statistics.median(wholes) * 1000, 1),
            "backfill_statement_ms": round(statement * 1000, 1)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=5000)
    for key, value in asyncio.run(measure(parser.parse_args().items)).items():
        print(f"{key:<32} {value}")
