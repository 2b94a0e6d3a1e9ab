"""What deduplication keeps on disk: `python -m benchmarks.inbox_growth [--events N]`.

Feeds N click and engagement events (default 1,000,000) for a bounded set of shares,
visitors and days through metrics' real subscriber path — `Inbox.handle_batch_counted` with
the records as Kafka hands them over (topic, partition, offset, headers), decoded with the
service's models, counted by `MetricsHandlers.count` in one transaction per batch — into
Postgres, without Kafka in between. Clicks come as distribution's relay sends them (each
with its publication number; now and then a batch sent again after a "crash", same
numbers, new offsets); observations as connectors send them (no number; now and then the
same event again). At checkpoints it reports the size on disk (pg_total_relation_size) of
the inbox, the positions and the clicks table, per handled event and per distinct thing
counted, and checks the figures: every click counted once.

For comparison, the first `--baseline` events go through the per-event path of before
(`Inbox.handle_batch_once`: one inbox row per event) on a schema of their own.
"""

import argparse
import asyncio
import random
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiokafka import ConsumerRecord
from pydantic import TypeAdapter

from benchmarks.scratch import scratch
from schemas.distribution import Click, LinkClicked, Share, ShareCreated
from schemas.engagement import Engagement, EngagementObserved
from services.metrics import domain, store
from services.metrics.app import MIGRATIONS
from services.metrics.config import MetricsSettings, MetricsTopics
from services.metrics.handlers import COUNTED, MetricsHandlers
from services.runtime.inbox import Inbox
from services.runtime.migrate import folders, migrate

START = datetime(2026, 3, 2, tzinfo=UTC)
PARTITIONS = 6
SHARES, VISITORS, DAYS = 200, 100, 5  # at most 100,000 distinct (share, day, visitor) clicks
RESEND_EVERY = 50  # one batch in this many is sent again by the relay (same numbers, new offsets)


class Stream:
    """Records as metrics' two subscribers receive them, a batch at a time, and what an
    exact count must find."""

    def __init__(self, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        self.offsets = {topic: [0] * PARTITIONS for topic in ("distribution", "engagement")}
        self.publication = 0
        self.click_total = 0
        self.best: dict[str, int] = {}
        self.shares = [self._share(i) for i in range(SHARES)]

    def _share(self, i: int) -> ShareCreated:
        share_id = f"share-{i:06d}"
        return ShareCreated(source="/advocacy/distribution", subject=share_id, data=Share(
            share_id=share_id, advocate_id=f"adv-{i % 50:06d}", item_id=f"item-{i % 20:05d}",
            campaign_id=f"camp-{i % 4:04d}", network="linkedin", text="Our new plant",
            tracked_url="https://go.example/r/abc", created_at=START))

    def record(self, topic: str, key: str, value: bytes, numbered: int | None) -> ConsumerRecord:
        partition = zlib.crc32(key.encode()) % PARTITIONS
        offset = self.offsets[topic][partition]
        self.offsets[topic][partition] += 1
        headers = (("publisher", b"distribution"), ("publication", str(numbered).encode())) if numbered else ()
        return ConsumerRecord(topic, partition, offset, 0, 0, key.encode(), value, None, len(key), len(value),
                              headers)

    def numbered(self, events: list[Any]) -> list[ConsumerRecord]:
        """As distribution's relay sends them: each with the next publication number."""
        records = []
        for event in events:
            self.publication += 1
            records.append(self.record("distribution", event.subject, event.to_bytes(), self.publication))
        return records

    def shares_batch(self) -> list[ConsumerRecord]:
        return self.numbered(self.shares)

    def batches(self, events: int, size: int) -> Iterator[tuple[list[ConsumerRecord], int]]:
        """(records, how many of them are new events) until `events` new events were made."""
        made, batch_no = 0, 0
        while made < events:
            n = min(size, events - made)
            clicks, observations = [], []
            for _ in range(n):
                share = self.rng.choice(self.shares).data
                if self.rng.random() < 0.6:
                    clicks.append(LinkClicked(source="/advocacy/distribution", subject=share.share_id, data=Click(
                        share_id=share.share_id, item_id=share.item_id, campaign_id=share.campaign_id,
                        network=share.network, visitor=f"{self.rng.randrange(VISITORS):064x}", bot=False,
                        clicked_at=START + timedelta(days=self.rng.randrange(DAYS), minutes=self.rng.randrange(1440)))))
                else:
                    impressions = self.best.get(share.share_id, 0) + self.rng.randrange(100)
                    self.best[share.share_id] = impressions
                    observations.append(EngagementObserved(source="/connector", subject=share.share_id, data=Engagement(
                        share_id=share.share_id, network=share.network, impressions=impressions,
                        observed_at=START + timedelta(seconds=made))))
            self.click_total += len(clicks)
            sent = self.numbered(clicks)
            yield sent, len(clicks)
            batch_no += 1
            if batch_no % RESEND_EVERY == 0:  # the relay died before deleting: the same, new offsets
                yield [self.record(r.topic, r.key.decode(), r.value, int(dict(r.headers)["publication"]))
                       for r in sent], 0
            again = observations[: len(observations) // 20]  # a connector retrying: the same events
            yield [self.record("engagement", e.subject, e.to_bytes(), None) for e in observations + again], \
                len(observations)
            made += n


async def sizes(conn: asyncpg.Connection) -> dict[str, int]:
    row = await conn.fetchrow(
        """SELECT pg_total_relation_size('inbox') AS inbox, pg_total_relation_size('consumer_positions') AS positions,
                  pg_total_relation_size('clicks') AS clicks, (SELECT count(*) FROM clicks) AS click_rows,
                  (SELECT count(*) FROM inbox) AS inbox_rows, (SELECT count(*) FROM consumer_positions) AS position_rows,
                  (SELECT coalesce(sum(clicks), 0) FROM clicks) AS clicks_counted""")
    assert row is not None  # no FROM: always one row
    return dict(row)


async def feed(dsn: str, service: str, events: int, batch: int, per_event_ids: bool,
               checkpoints: int = 4) -> tuple[list[dict[str, Any]], Stream, float]:
    conn = await asyncpg.connect(dsn)
    await migrate(conn, folders(service, MIGRATIONS))
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    settings = MetricsSettings(service=service, database_url=dsn)
    handlers = MetricsHandlers(settings, MetricsTopics(), settings.rate_cards(), lambda: START)
    inbox = Inbox(pool, service, f"/advocacy/{service}", dead_letters=None)  # type: ignore[arg-type]  # none is bad
    decoder = TypeAdapter[Any](COUNTED)

    async def handle(records: list[ConsumerRecord]) -> None:
        if per_event_ids:
            await inbox.handle_batch_once(records, decoder, lambda uow, events: handlers.count(uow, store.Counted(domain.tally(events))))
        else:
            await inbox.handle_batch_counted(records, decoder, handlers.count, domain.counted_once_by_construction,
                                             store.Counting)

    stream = Stream()
    points: list[dict[str, Any]] = []
    handled, next_point = 0, events // checkpoints
    started = time.perf_counter()
    try:
        await handle(stream.shares_batch())
        for records, new in stream.batches(events, batch):
            await handle(records)
            handled += new
            if handled >= next_point:
                points.append({"events": handled, **await sizes(conn)})
                next_point += events // checkpoints
        elapsed = time.perf_counter() - started
    finally:
        await pool.close()
        await conn.close()
    return points, stream, elapsed


async def measure(events: int = 1_000_000, batch: int = 5_000, baseline: int = 100_000) -> dict[str, Any]:
    async with scratch(MetricsTopics) as bench:
        points, stream, elapsed = await feed(bench.config.service_dsn(bench.name), bench.name, events, batch, False)
    async with scratch(MetricsTopics) as before:
        with_ids, _, _ = await feed(before.config.service_dsn(before.name), before.name, min(baseline, events), batch,
                                    True, checkpoints=1)
    last = points[-1]
    assert last["clicks_counted"] == stream.click_total, f"clicks {last['clicks_counted']} != {stream.click_total}"
    for point in points:
        print(f"after {point['events']:>9,} events: inbox {point['inbox']:>9,} B ({point['inbox_rows']} rows), "
              f"positions {point['positions']:>7,} B ({point['position_rows']} rows), clicks table "
              f"{point['clicks']:>11,} B ({point['click_rows']:,} distinct of {SHARES * VISITORS * DAYS:,})",
              flush=True)
    return {
        "inbox_growth_events": last["events"], "inbox_growth_events_per_s": round(last["events"] / elapsed),
        "inbox_bytes_per_event": round(last["inbox"] / last["events"], 4),
        "inbox_rows_after": last["inbox_rows"], "consumer_positions_rows_after": last["position_rows"],
        "click_table_bytes_per_event": round(last["clicks"] / last["events"], 2),
        "click_table_bytes_per_distinct_click": round(last["clicks"] / last["click_rows"], 1),
        "distinct_clicks": last["click_rows"],
        "click_table_bytes_by_checkpoint": {str(p["events"]): p["clicks"] for p in points},
        "inbox_bytes_by_checkpoint": {str(p["events"]): p["inbox"] for p in points},
        "inbox_bytes_per_event_with_ids": round(with_ids[-1]["inbox"] / with_ids[-1]["events"], 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--baseline", type=int, default=100_000, help="events through the per-event-id path")
    args = parser.parse_args()
    for key, value in asyncio.run(measure(args.events, args.batch, args.baseline)).items():
        print(f"{key:<40} {value}")
