"""Metrics ingestion on the local stack: `python -m benchmarks.metrics_ingestion [--events N] [--batch N] [--rounds N]`.

Pre-fills one fresh topic (6 partitions) with N mixed events as distribution and the
connectors publish them — shares, clicks (some repeated visitors, some bots), engagement
observations, the same observations delivered again (same event id) and re-reported
(new id, same or lower counters) — then, in the same run:
- a bare aiokafka consumer drains the topic (the ceiling), and again validating each record
  with the service's pydantic models and nothing else (what validation alone costs);
- the metrics service, as its own process, ingests it until its consumer group has
  committed every record's offset (which it does after each batch's transaction, ADR 0026),
  its rate taken from its first committed batch to its last, so that the process's start
  does not count. Shares and clicks carry publication numbers, as distribution's relay
  sends them; the inbox keeps no row of them (ADR 0021);
and then checks in the tables that each share, click and counter was counted exactly once.

All of that is one round, on its own scratch schema and topic; a run is `--rounds` of them
(5 by default), and reports the round whose ratio to the decode-only consumer is the median,
with every round's ratio beside it. On this host's two virtual cores one round's ratio
varies by ±0.1 with the minute (docs/performance-log.md, "Batches of 10,000"), the median
of five by less.
"""

import argparse
import asyncio
import os
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import TypeAdapter

from benchmarks.runtime import bare_drain
from benchmarks.scratch import scratch, served
from schemas.distribution import Click, LinkClicked, Share, ShareCreated
from schemas.engagement import Engagement, EngagementObserved
from services.metrics.config import MetricsSettings, MetricsTopics
from services.metrics.handlers import COUNTED

INGEST_BATCH = MetricsSettings.model_fields["ingest_batch_size"].default  # the service's own
NETWORKS = ["linkedin", "x", "xing", "facebook", "mastodon", "bluesky"]
START = datetime(2026, 3, 1, tzinfo=UTC)


def mixed_events(n: int, seed: int = 7) -> tuple[list[tuple[bytes, bytes]], dict[str, int]]:
    """(key, value) pairs in a realistic order, and what an exact count must find."""
    rng = random.Random(seed)
    messages: list[tuple[bytes, bytes]] = []
    shares: list[Share] = []
    observed: list[tuple[bytes, bytes]] = []
    best: dict[str, int] = {}
    expected = {"shares": 0, "clicks": 0, "machine_requests": 0, "unique_ids": 0}
    event: ShareCreated | LinkClicked | EngagementObserved
    while len(messages) < n:
        roll = rng.random()
        if roll < 0.2 or not shares:
            event = _share(rng)
            shares.append(event.data)
            expected["shares"] += 1
        elif roll < 0.7:
            s, bot = rng.choice(shares), rng.random() < 0.03
            event = LinkClicked(source="/advocacy/distribution", subject=s.share_id, data=Click(
                share_id=s.share_id, item_id=s.item_id, campaign_id=s.campaign_id, network=s.network,
                visitor=f"{rng.randrange(50_000):064x}", bot=bot,
                clicked_at=s.created_at + timedelta(minutes=rng.randrange(3000))))
            expected["machine_requests" if bot else "clicks"] += 1  # counted apart (metrics' migration 010)
        elif roll < 0.9 or not observed:
            s = rng.choice(shares)
            impressions = best.get(s.share_id, 0) + rng.randrange(500)
            if rng.random() < 0.3:  # a late report, lower than one already seen
                impressions = rng.randrange(impressions + 1)
            best[s.share_id] = max(best.get(s.share_id, 0), impressions)
            event = EngagementObserved(source="/connector", subject=s.share_id, data=Engagement(
                share_id=s.share_id, network=s.network, impressions=impressions, reactions=impressions // 50,
                comments=impressions // 200, reshares=impressions // 400,
                observed_at=s.created_at + timedelta(hours=rng.randrange(1, 72))))
        else:  # an observation delivered again: the same event id
            messages.append(rng.choice(observed))
            continue
        message = (event.subject.encode(), event.to_bytes())
        if isinstance(event, EngagementObserved):
            observed.append(message)
        messages.append(message)
        expected["unique_ids"] += 1
    expected["impressions"] = sum(best.values())
    return messages, expected


def _share(rng: random.Random) -> ShareCreated:
    share_id = uuid.UUID(int=rng.getrandbits(128)).hex
    return ShareCreated(source="/advocacy/distribution", subject=share_id, data=Share(
        share_id=share_id, advocate_id=f"adv-{rng.randrange(2000):06d}", item_id=f"item-{rng.randrange(300):05d}",
        campaign_id=f"camp-{rng.randrange(20):04d}", network=rng.choice(NETWORKS), text="Our new plant",
        tracked_url="https://go.example/r/abc", created_at=START + timedelta(minutes=rng.randrange(30 * 24 * 60))))


async def fill(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    """`messages` on `topic`; distribution's (shares, clicks) numbered as its relay numbers them."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=20,
                                max_batch_size=256 * 1024)
    await producer.start()
    publication = 0

    def headers(value: bytes) -> list[tuple[str, bytes]]:
        nonlocal publication
        if b'"source":"/advocacy/distribution"' not in value:
            return []
        publication += 1
        return [("publisher", b"distribution"), ("publication", str(publication).encode())]

    try:
        pending = [await producer.send(topic, value, key=key, headers=headers(value)) for key, value in messages]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def timed(work: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


async def measure(events: int = 200_000, batch: int = INGEST_BATCH, rounds: int = 5) -> dict[str, Any]:
    """The median round of `rounds` (by `ingest_ratio_vs_decoding`), each a fresh topic and
    schema; `ingest_ratio_vs_decoding_rounds` lists every round's ratio in the order run.

    Raises ValueError for fewer than one round, AssertionError when a round did not count
    each event exactly once."""
    if rounds < 1:
        raise ValueError(f"rounds: at least 1, not {rounds}")
    measured = [await one_round(events, batch) for _ in range(rounds)]
    by_ratio = sorted(measured, key=lambda r: r["ingest_ratio_vs_decoding"])
    chosen = by_ratio[(rounds - 1) // 2]  # the median round (the lower of the two middle ones)
    return chosen | {"ingest_rounds": rounds,
                     "ingest_ratio_vs_decoding_rounds": [r["ingest_ratio_vs_decoding"] for r in measured]}


async def one_round(events: int, batch: int) -> dict[str, float]:
    """One round's figures: rates in events/s, CPU in µs per event (see the module's docstring)."""
    async with scratch(MetricsTopics) as bench:
        bootstrap, topics = bench.config.kafka_bootstrap, bench.topics
        messages, expected = mixed_events(events)
        await fill(bootstrap, topics.distribution_events, messages)
        del messages
        bare = await timed(lambda: bare_drain(bootstrap, topics.distribution_events, events, batch))
        cpu = time.process_time()
        decoding = await timed(lambda: bare_drain(bootstrap, topics.distribution_events, events, batch, TypeAdapter(COUNTED)))
        decoding_cpu = time.process_time() - cpu
        conn = await asyncpg.connect(bench.config.service_dsn(bench.name))
        try:
            group = f"{bench.name}.{topics.distribution_events}"  # routing.consume_counted's group
            async with served(bench, "metrics", ingest_batch_size=batch) as process, \
                    committed_offsets(bootstrap, group) as committed:
                first, started = await until(committed, lambda done: done > 0)
                cpu_then = await cpu_seconds(conn, bench.name, process.process.pid)
                last, ingest = await until(committed, lambda done: done == events)
                cpu_now = await cpu_seconds(conn, bench.name, process.process.pid)
                # Events after the first batch over the time after it.
                after_first = last - first
                assert after_first > 0, f"{events} events in one batch of up to {batch}: nothing after the first to time"
                rate = after_first / (ingest - started)
            counted = await conn.fetchrow(
                """SELECT (SELECT count(*) FROM shares) AS shares, (SELECT sum(clicks) FROM clicks) AS clicks,
                          (SELECT sum(machine_requests) FROM clicks) AS machine_requests,
                          (SELECT sum(impressions) FROM engagement) AS impressions""")
        finally:
            await conn.close()
    assert counted is not None  # a SELECT of scalar subqueries, without FROM, returns one row
    wrong = {k: (counted[k], expected[k]) for k in ("shares", "clicks", "machine_requests", "impressions")
             if counted[k] != expected[k]}
    assert not wrong, f"not counted exactly once: {wrong}"
    return {"ingest_events": events, "ingest_events_per_s": round(rate),
            "raw_events_per_s": round(events / bare), "ingest_ratio_vs_raw": round(rate * bare / events, 3),
            "raw_decoding_events_per_s": round(events / decoding),
            "ingest_ratio_vs_decoding": round(rate * decoding / events, 3),
            # CPU time per event, which a machine shared with other work changes less than
            # the rates: the decode-only consumer's, the metrics process's, and its database
            # sessions' (what the two cores are spent on; docs/performance.md).
            "decoding_cpu_us_per_event": round(decoding_cpu / events * 1e6, 1),
            "ingest_cpu_us_per_event": round((cpu_now[0] - cpu_then[0]) / after_first * 1e6, 1),
            "ingest_postgres_cpu_us_per_event": round(sum(
                cpu_now[1][pid] - cpu_then[1].get(pid, 0.0) for pid in cpu_now[1]) / after_first * 1e6, 1)}


async def cpu_seconds(conn: asyncpg.Connection, role: str, pid: int) -> tuple[float, dict[int, float]]:
    """CPU seconds (user and system) the process `pid` has used, and each database session of
    `role` but `conn`'s own, by the kernel's count (/proc/<pid>/stat)."""
    sessions = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()",
                                role)
    return _cpu(pid), {r["pid"]: _cpu(r["pid"]) for r in sessions}


def _cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:  # gone meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def committed_offsets(bootstrap: str, group: str) -> AsyncIterator[Callable[[], Awaitable[int]]]:
    """A function that reads how many records consumer group `group` has committed, summed
    over its partitions: metrics commits a batch's offsets after its transaction (ADR 0026),
    so this is the events counted. Asking the broker costs the database nothing; counting
    the tables every 20 ms took a third of a core from the ingestion it measured."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()

    async def committed() -> int:
        offsets = await admin.list_consumer_group_offsets(group)
        return sum(max(o.offset, 0) for o in offsets.values())

    try:
        yield committed
    finally:
        await admin.close()


async def until(progress: Callable[[], Awaitable[int]], done: Callable[[int], bool]) -> tuple[int, float]:
    """(progress, when) as soon as `done(progress)`, polled every 20 ms."""
    while True:
        value = await progress()
        if done(value):
            return value, time.perf_counter()
        await asyncio.sleep(0.02)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=INGEST_BATCH, help="records a batch, for metrics and the "
                        "decode-only consumer alike (default: the default of metrics' INGEST_BATCH_SIZE)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for key, value in asyncio.run(measure(args.events, args.batch, args.rounds)).items():
        print(f"{key:<24} {value}")
