"""A person says yes while many items are active: `python -m benchmarks.backfill [--items 5000]`.

Distribution runs as its own process on a scratch schema holding `items` active items (written
straight into its tables, as years of curation would have left them) and one person in the
directory. Measured:
- the handler's statements alone (`store.give_consent`, the audience lock shared (ADR
  0033), then `store.backfill`: every active item whose audience reaches the person, into
  their feed, notifications queued, the items' reach logged), in one transaction,
  committed, for 5 other people: the median, `backfill_statement_ms`, and its Postgres backend's CPU time, `backfill_statement_cpu_ms`;
- the whole path, the reported figure: `consent.given` on Kafka → distribution → every
  feed entry committed, for `PEOPLE` (8) people saying yes one after another, each after a
  pause of 0.25-0.65 s (a yes meets an idle consumer, at any point of its waiting; sent back
  to back, each found the consumer just back from the last and hid any wait between two
  fetches), sent by a producer started, and told the topic's partitions, before the clock
  (as the consent service's relay is); `backfill_ms` is the slowest, `backfill_p50_ms` the
  median.
  Completion is seen by looking up one of the person's entries by its key every 2 ms (the
  backfill commits all or nothing), then counted once: counting the feed on every look had
  the benchmark visit thousands of uncommitted entries each time, on the cores the
  transaction needs;
- how the path divides, as medians: `backfill_to_handler_p50_ms`, from sending to the
  handler's clock (the entries' `delivered_at`: Kafka, the consumer, decoding); and CPU
  time per yes (/proc, including what is idle work meanwhile): the distribution process's,
  `backfill_service_cpu_ms`, and its Postgres backends', `backfill_database_cpu_ms`.
Target (issue #19): ≤ 200 ms with 5,000 active items.
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import asyncpg
from aiokafka import AIOKafkaProducer

from benchmarks.audience import consent_event, joined
from benchmarks.scratch import scratch, served
from ops.bus import publish
from services.distribution import store
from services.distribution.config import DistributionTopics

OTHERS = [f"adv-other-{n:03d}" for n in range(5)]
PEOPLE = [f"adv-backfill-{n:03d}" for n in range(1, 9)]


async def fill(conn: asyncpg.Connection, items: int) -> None:
    now = datetime.now(UTC)
    await conn.copy_records_to_table("items", columns=["item_id", "status", "content", "updated_at"], records=[
        (f"item-{n:06d}", "active", json.dumps({
            "source_url": f"https://example.org/news/{n}", "title": f"News {n}", "language": "de",
            "topics": ["product"], "audience": {"roles": ["employee"] if n % 2 else []}}), now)
        for n in range(items)])
    await conn.execute("ANALYZE items")


async def until_fed(conn: asyncpg.Connection, who: str, timeout: float = 60) -> None:
    """Until the person's entry of the first item is committed (and with it all of theirs)."""
    deadline = time.monotonic() + timeout
    while await conn.fetchval("SELECT 1 FROM feed WHERE item_id = 'item-000000' AND advocate_id = $1", who) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"{who}'s feed not filled within {timeout}s")
        await asyncio.sleep(0.002)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process `pid` so far (/proc/<pid>/stat), in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def backends_cpu(conn: asyncpg.Connection, role: str) -> dict[int, float]:
    """CPU seconds so far of each Postgres backend of `role` but `conn`'s own."""
    pids = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()", role)
    return {r["pid"]: cpu_seconds(r["pid"]) for r in pids}


async def measure(items: int = 5000) -> dict[str, float]:
    pauses = random.Random(19)
    async with scratch(DistributionTopics) as bench, served(bench, "distribution") as service:
        bootstrap = bench.config.kafka_bootstrap
        conn = await asyncpg.connect(bench.config.service_dsn(bench.name))
        try:
            await fill(conn, items)
            await publish(bootstrap, bench.topics.directory, [joined(who) for who in (*OTHERS, *PEOPLE)])
            while await conn.fetchval("SELECT count(*) FROM people") < len(OTHERS) + len(PEOPLE):
                await asyncio.sleep(0.05)
            # The handler's statements alone, for other people, as it runs them; committed.
            own = await conn.fetchval("SELECT pg_backend_pid()")
            statements, statement_cpu = [], []
            for who in OTHERS:
                now = datetime.now(UTC)
                later = now + timedelta(days=1)  # the digests' time, as the handler sets it: nothing due meanwhile
                began, cpu_began = time.perf_counter(), cpu_seconds(own)
                async with conn.transaction():
                    # grows (a first yes): the audience lock taken with it, shared (ADR 0033)
                    assert await store.give_consent(conn, who, "receive_content", 1)
                    reached = await store.backfill(conn, who, now, later, later, 3, after_consent=True)
                statements.append(time.perf_counter() - began)
                statement_cpu.append(cpu_seconds(own) - cpu_began)
                assert reached == items, (reached, items)
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
            await producer.start()
            await producer.partitions_for(bench.topics.consent_events)  # the topic's metadata, as a relay has it
            wholes, to_handler = [], []
            cpu, db_cpu = cpu_seconds(service.process.pid), await backends_cpu(conn, bench.name)
            try:
                for who in PEOPLE:
                    # A person's yes meets an idle consumer, at any point of its waiting.
                    await asyncio.sleep(pauses.uniform(0.25, 0.65))
                    event = consent_event(who, True)
                    sent_at, began = time.time(), time.perf_counter()
                    await producer.send_and_wait(bench.topics.consent_events, event.to_bytes(), key=who.encode())
                    await until_fed(conn, who)
                    wholes.append(time.perf_counter() - began)
                    row = await conn.fetchrow(
                        "SELECT count(*), min(delivered_at) FROM feed WHERE advocate_id = $1", who)
                    assert row is not None  # an aggregate without GROUP BY: always one row
                    fed, handled_at = row
                    assert fed == items, (who, fed, items)
                    to_handler.append(handled_at.timestamp() - sent_at)
            finally:
                await producer.stop()
            cpu = cpu_seconds(service.process.pid) - cpu
            db_after = await backends_cpu(conn, bench.name)
            db = sum(seconds - db_cpu.get(pid, 0.0) for pid, seconds in db_after.items())
        finally:
            await conn.close()
    return {"backfill_items": items, "backfill_ms": round(max(wholes) * 1000, 1),
            "backfill_p50_ms": round(statistics.median(wholes) * 1000, 1),
            "backfill_statement_ms": round(statistics.median(statements) * 1000, 1),
            "backfill_statement_cpu_ms": round(statistics.median(statement_cpu) * 1000, 1),
            "backfill_to_handler_p50_ms": round(statistics.median(to_handler) * 1000, 1),
            "backfill_service_cpu_ms": round(cpu / len(PEOPLE) * 1000, 1),
            "backfill_database_cpu_ms": round(db / len(PEOPLE) * 1000, 1)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=5000)
    for key, value in asyncio.run(measure(parser.parse_args().items)).items():
        print(f"{key:<32} {value}")
