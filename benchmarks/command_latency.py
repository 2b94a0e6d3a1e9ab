"""Command → resulting event latency at a steady rate: `python -m benchmarks.command_latency
[--rate 500] [--seconds 20]`.

Runs the consent service on a scratch schema and fresh topics, sends give and withdraw
commands at a steady rate (each answered by a consent event), and measures from the
moment a command was sent to the moment its event (matched by causation id) arrived.
Target (DESIGN.md): p99 within 200 ms at 500 commands/s.
"""

import argparse
import asyncio
import json
import statistics
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from benchmarks.scratch import scratch
from ops.bus import publish
from ops.scenario import commands as scenario
from ops.scenario.cast import cast
from schemas import consent, directory
from schemas.consent import CollectionMethod, Purpose
from services.consent.app import build_service
from services.consent.config import ConsentSettings, ConsentTopics

PEOPLE = 500


def command(n: int) -> consent.GiveConsent | consent.WithdrawConsent:
    who = f"adv-bench-{n % PEOPLE:04d}"
    if (n // PEOPLE) % 2 == 0:  # every person alternates: give, then withdraw, then give ...
        return consent.GiveConsent(source="/bench", subject=who, data=consent.Choice(
            actor=who, advocate_id=who, purpose=Purpose.RECEIVE_CONTENT, policy_version=1,
            collection_method=CollectionMethod.API))
    return consent.WithdrawConsent(source="/bench", subject=who, data=consent.Withdrawal(
        actor=who, advocate_id=who, purpose=Purpose.RECEIVE_CONTENT))


async def measure(bootstrap: str, topics: ConsentTopics, rate: int, seconds: int) -> list[float]:
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
    print(f"sent {rate * seconds} commands in {time.perf_counter() - started:.1f} s; {len(sent)} unanswered")
    return latencies


async def main(rate: int, seconds: int) -> None:
    async with scratch(ConsentTopics) as bench:
        async with build_service(bench.settings(ConsentSettings), bench.topics).running() as service:
            bootstrap, topics = bench.config.kafka_bootstrap, bench.topics
            people = cast(PEOPLE, 1, "bench")
            await publish(bootstrap, topics.directory, [directory.PersonJoined(
                source="/bench", subject=f"adv-bench-{n:04d}", data=scenario.joined(p).data.model_copy(
                    update={"advocate_id": f"adv-bench-{n:04d}"})) for n, p in enumerate(people.people)])
            await publish(bootstrap, topics.commands, [scenario.policy(p, 1) for p in Purpose])
            while await service.pool.fetchval("SELECT count(*) FROM people") < PEOPLE:
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)
            latencies = sorted(await measure(bootstrap, topics, rate, seconds))
    q = statistics.quantiles(latencies, n=100)
    print(f"command -> event at {rate}/s: p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms ({len(latencies)} measured)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.rate, args.seconds))
