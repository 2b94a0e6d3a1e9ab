"""Command → resulting event latency at a steady rate, per service:
`python -m benchmarks.command_latency [--service consent] [--rate 500] [--seconds 20]`.

Runs the service as its own process on a scratch schema and fresh topics, sends
commands at a steady rate, and measures from the moment a command was sent to the
moment its event (matched by causation id: the answer or a rejection) arrived.
Target (DESIGN.md): p99 within 200 ms at 500 commands/s.
- consent: give and withdraw, alternating per person, for 500 people in the directory;
- curation: a new draft item per command (each answered by ItemDrafted);
- distribution: share requests of 1,000 people with the item in their feeds (ShareCreated).
"""

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from benchmarks import audience
from benchmarks.scratch import Scratch, scratch, served
from ops.bus import publish
from ops.scenario import commands as scenario
from ops.scenario.cast import cast
from schemas import consent, curation, directory, distribution
from schemas.consent import CollectionMethod, Purpose
from services.consent.config import ConsentTopics
from services.curation.config import CurationTopics
from services.distribution.config import DistributionTopics

PEOPLE, SHARERS = 500, 1000


def consent_command(n: int) -> consent.GiveConsent | consent.WithdrawConsent:
    who = f"adv-bench-{n % PEOPLE:04d}"
    if (n // PEOPLE) % 2 == 0:  # every person alternates: give, then withdraw, then give ...
        return consent.GiveConsent(source="/bench", subject=who, data=consent.Choice(
            actor=who, advocate_id=who, purpose=Purpose.RECEIVE_CONTENT, policy_version=1,
            collection_method=CollectionMethod.API))
    return consent.WithdrawConsent(source="/bench", subject=who, data=consent.Withdrawal(
        actor=who, advocate_id=who, purpose=Purpose.RECEIVE_CONTENT))


async def consent_setup(bench: Scratch, conn: asyncpg.Connection) -> None:
    """People in the directory and a policy per purpose, as consent requires."""
    bootstrap, topics = bench.config.kafka_bootstrap, bench.topics
    people = cast(PEOPLE, 1, "bench")
    await publish(bootstrap, topics.directory, [directory.PersonJoined(
        source="/bench", subject=f"adv-bench-{n:04d}", data=scenario.joined(p).data.model_copy(
            update={"advocate_id": f"adv-bench-{n:04d}"})) for n, p in enumerate(people.people)])
    await publish(bootstrap, topics.commands, [scenario.policy(p, 1) for p in Purpose])
    while await conn.fetchval("SELECT count(*) FROM people") < PEOPLE or \
            await conn.fetchval("SELECT count(*) FROM policies") < len(Purpose):
        await asyncio.sleep(0.2)


def curation_command(n: int) -> curation.DraftItem:
    return curation.DraftItem(source="/bench", subject=f"item-bench-{n:06d}", data=curation.WriteItem(
        actor=scenario.EDITOR, content=curation.ItemContent(
            source_url=f"https://example.com/news/{n}", title=f"News {n}", language="en", topics=["news"])))


async def no_setup(bench: Scratch, conn: asyncpg.Connection) -> None:
    pass


async def distribution_setup(bench: Scratch, conn: asyncpg.Connection) -> None:
    await audience.prepare(bench.config.kafka_bootstrap, bench.topics, conn, SHARERS, share=False)


def distribution_command(n: int) -> distribution.RequestShare:
    return audience.share_request(f"adv-b-{n % SHARERS:05d}")


@dataclass(frozen=True)
class Load:
    topics_type: type
    setup: Callable
    command: Callable[[int], object]


LOADS = {"consent": Load(ConsentTopics, consent_setup, consent_command),
         "curation": Load(CurationTopics, no_setup, curation_command),
         "distribution": Load(DistributionTopics, distribution_setup, distribution_command)}


async def measure(service: str, rate: int = 500, seconds: int = 20) -> dict[str, float]:
    load = LOADS[service]
    async with scratch(load.topics_type) as bench, served(bench, service):
        conn = await asyncpg.connect(bench.config.service_dsn(bench.name))
        try:
            await load.setup(bench, conn)
        finally:
            await conn.close()
        latencies, unanswered = await steady(bench.config.kafka_bootstrap, bench.topics, load.command, rate, seconds)
    q = statistics.quantiles(latencies, n=100)
    return {"p50_ms": round(q[49] * 1000), "p99_ms": round(q[98] * 1000), "max_ms": round(latencies[-1] * 1000),
            "rate": rate, "answered": len(latencies), "unanswered": unanswered}


async def steady(bootstrap: str, topics, command: Callable, rate: int, seconds: int) -> tuple[list[float], int]:
    sent: dict[str, float] = {}
    latencies: list[float] = []
    consumer = AIOKafkaConsumer(topics.events, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="latest")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await consumer.start()
    await producer.start()

    async def collect() -> None:
        while True:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                for r in records:
                    cause = json.loads(r.value).get("causationid")
                    if cause in sent:
                        latencies.append(time.perf_counter() - sent.pop(cause))

    collector = asyncio.create_task(collect())
    await asyncio.sleep(1.0)  # the consumer is positioned at the end
    started = time.perf_counter()
    for n in range(rate * seconds):
        await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
        c = command(n)
        sent[c.id] = time.perf_counter()
        await producer.send(topics.commands, c.to_bytes(), key=c.subject.encode())
    deadline = time.perf_counter() + 30
    while sent and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    collector.cancel()
    await producer.stop()
    await consumer.stop()
    return sorted(latencies), len(sent)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--service", choices=sorted(LOADS), default="consent")
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    print(asyncio.run(measure(args.service, args.rate, args.seconds)))
