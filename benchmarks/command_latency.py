"""Command → resulting event latency at a steady rate, per service:
`python -m benchmarks.command_latency [--service consent] [--rate 500] [--seconds 20]`.

Runs the service as its own process on a scratch schema and fresh topics, sends commands
at a steady rate, and measures from the moment a command was sent to the moment its event
arrived on Kafka. A command that acts for a person goes over the service's HTTP API, as the
person signed in (a token of the test issuer, made before the clock starts) with an
Idempotency-Key, as an app sends it; a content system's command goes on Kafka.
Target (DESIGN.md): p99 within 200 ms at 500 commands/s.
- consent (HTTP): give and withdraw, alternating per person, for 500 people in the directory
  (ConsentGiven, ConsentWithdrawn); the HTTP answer's own latency is reported too;
- curation (Kafka): a new draft item per command (ItemDrafted, matched by causation id);
- distribution (HTTP): share requests of 1,000 people with the item in their feeds (ShareCreated).

An HTTP command's event is the n-th event of its type about its person, for the person's
n-th command of that kind: the client cannot know the id of the command the API builds.
"""

import argparse
import asyncio
import json
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from benchmarks import audience
from benchmarks.front_door import FrontDoor, TransportError
from benchmarks.scratch import Scratch, scratch, served
from harness.issuer import TestIssuer
from ops.bus import publish
from ops.scenario import commands as scenario
from ops.scenario.cast import cast
from schemas import consent, curation, directory, distribution
from schemas.consent import Purpose
from schemas.envelope import CloudEvent, event_type_of
from services.consent.config import ConsentTopics
from services.curation.config import CurationTopics
from services.distribution.config import DistributionTopics

PEOPLE, SHARERS = 500, 1000


class CommandTopics(Protocol):
    """A service's topics (its config's `*Topics`) as far as commands go: where they are sent,
    where their events come out."""

    @property
    def commands(self) -> str: ...

    @property
    def events(self) -> str: ...


@dataclass(frozen=True)
class HttpCommand:
    """POST `path` as `who`; `event`: the type of the event it causes."""

    who: str
    path: str
    body: dict[str, Any] | None
    event: str


def consent_person(n: int) -> str:
    return f"adv-bench-{n % PEOPLE:04d}"


def consent_command(n: int) -> HttpCommand:
    who, path = consent_person(n), f"/api/me/consents/{Purpose.RECEIVE_CONTENT.value}"
    if (n // PEOPLE) % 2 == 0:  # every person alternates: give, then withdraw, then give ...
        return HttpCommand(who, f"{path}/give", {"policy_version": 1}, event_type_of(consent.ConsentGiven))
    return HttpCommand(who, f"{path}/withdraw", None, event_type_of(consent.ConsentWithdrawn))


async def consent_setup(bench: Scratch, conn: asyncpg.Connection) -> None:
    """People in the directory and a policy per purpose (the privacy office's, on Kafka)."""
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
    await audience.prepare(bench.config.kafka_bootstrap, bench.topics, conn, SHARERS)


def sharer(n: int) -> str:
    return f"adv-b-{n % SHARERS:05d}"


def distribution_command(n: int) -> HttpCommand:
    return HttpCommand(sharer(n), audience.SHARES_PATH, audience.share_body(), event_type_of(distribution.ShareCreated))


@dataclass(frozen=True)
class Load:
    topics_type: type
    setup: Callable[[Scratch, asyncpg.Connection], Awaitable[None]]
    command: Callable[[int], Any]  # an HttpCommand, or a CloudEvent for Kafka
    people: Callable[[int], str] | None = None  # HTTP: who sends the n-th command (signed in beforehand)
    count: int = 0  # HTTP: how many distinct people


LOADS = {"consent": Load(ConsentTopics, consent_setup, consent_command, consent_person, PEOPLE),
         "curation": Load(CurationTopics, no_setup, curation_command),
         "distribution": Load(DistributionTopics, distribution_setup, distribution_command, sharer, SHARERS)}


async def measure(service: str, rate: int = 500, seconds: int = 20) -> dict[str, Any]:
    load = LOADS[service]
    with TestIssuer() as issuer:
        async with scratch(load.topics_type) as bench, served(bench, service, identity=issuer.settings()) as process:
            conn = await asyncpg.connect(bench.config.service_dsn(bench.name))
            try:
                await load.setup(bench, conn)
            finally:
                await conn.close()
            if load.people is None:
                latencies, unanswered = await steady(bench.config.kafka_bootstrap, bench.topics, load.command,
                                                     rate, seconds)
                return {"via": "kafka", **summary(latencies), "rate": rate, "answered": len(latencies),
                        "unanswered": unanswered}
            async with FrontDoor(issuer, process.port) as door:
                door.sign_in(load.people(n) for n in range(load.count))
                return {"via": "http", **await steady_http(bench.config.kafka_bootstrap, bench.topics, door,
                                                           load.command, rate, seconds)}


def summary(latencies: list[float], prefix: str = "") -> dict[str, float]:
    if len(latencies) < 2:
        return {f"{prefix}p50_ms": float("nan"), f"{prefix}p99_ms": float("nan")}
    q = statistics.quantiles(latencies, n=100)
    return {f"{prefix}p50_ms": round(q[49] * 1000), f"{prefix}p99_ms": round(q[98] * 1000),
            f"{prefix}max_ms": round(max(latencies) * 1000)}


class KafkaCommands:
    """Kafka commands at a steady rate, each matched to its event by causation id, in three
    steps so that other loads can run in the same window: `start` (the event consumer
    positioned at the end), `send` (the commands, at the rate), `finish` (the answers waited
    for, 30 s by default: the sorted latencies and how many never came)."""

    def __init__(self, bootstrap: str, topics: CommandTopics, command: Callable[[int], CloudEvent[Any]]) -> None:
        self.topics, self.command = topics, command
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.consumer = AIOKafkaConsumer(topics.events, bootstrap_servers=bootstrap, group_id=None,
                                         auto_offset_reset="latest")
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
        self.collector: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        await self.producer.start()
        self.collector = asyncio.create_task(self._collect())
        await asyncio.sleep(1.0)  # the consumer is positioned at the end

    async def _collect(self) -> None:
        while True:
            for records in (await self.consumer.getmany(timeout_ms=100)).values():
                for r in records:
                    cause = json.loads(r.value).get("causationid")
                    if cause in self.sent:
                        self.latencies.append(time.perf_counter() - self.sent.pop(cause))

    async def send(self, rate: int, seconds: int) -> None:
        started = time.perf_counter()
        for n in range(rate * seconds):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            c = self.command(n)
            self.sent[c.id] = time.perf_counter()
            await self.producer.send(self.topics.commands, c.to_bytes(), key=c.subject.encode())

    async def finish(self, wait: float = 30) -> tuple[list[float], int]:
        deadline = time.perf_counter() + wait
        while self.sent and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        if self.collector is not None:
            self.collector.cancel()
        await self.producer.stop()
        await self.consumer.stop()
        return sorted(self.latencies), len(self.sent)


async def steady(bootstrap: str, topics: CommandTopics, command: Callable[[int], CloudEvent[Any]], rate: int,
                 seconds: int) -> tuple[list[float], int]:
    """Kafka commands, each matched to its event by causation id."""
    commands = KafkaCommands(bootstrap, topics, command)
    await commands.start()
    await commands.send(rate, seconds)
    return await commands.finish()


async def steady_http(bootstrap: str, topics: CommandTopics, door: FrontDoor, command: Callable[[int], HttpCommand], rate: int,
                      seconds: int) -> dict[str, Any]:
    """HTTP commands sent at `rate` whether or not earlier ones were answered (an open loop:
    a service that falls behind shows as latency, not as a lower rate); the latency from
    sending to the event on Kafka, and to the HTTP answer."""
    sent: dict[tuple[str, str, int], float] = {}  # (person, event type, n-th) -> when sent
    ordinals_sent: Counter[tuple[str, str]] = Counter()  # (person, event type) -> commands sent
    ordinals_seen: Counter[tuple[str, str]] = Counter()  # and their events seen
    to_event: list[float] = []
    to_answer: list[float] = []
    refused: Counter[str] = Counter()  # why (an exception's name, or the HTTP status and reason) -> how often
    consumer = AIOKafkaConsumer(topics.events, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="latest")
    await consumer.start()

    async def collect() -> None:
        while True:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                for r in records:
                    event = json.loads(r.value)
                    about = (event["data"].get("advocate_id", event["subject"]), event["type"])
                    n, ordinals_seen[about] = ordinals_seen[about], ordinals_seen[about] + 1
                    if (at := sent.pop((*about, n), None)) is not None:
                        to_event.append(time.perf_counter() - at)

    async def send(c: HttpCommand, at: float) -> None:
        try:
            response = await door.post(c.who, c.path, c.body)
        except TransportError as error:
            refused[type(error).__name__] += 1
            return
        to_answer.append(time.perf_counter() - at)
        if not response.is_success:
            refused[f"{response.status_code} {response.json().get('reason')}"] += 1

    collector = asyncio.create_task(collect())
    await asyncio.sleep(1.0)  # the consumer is positioned at the end
    requests = []
    started = time.perf_counter()
    for n in range(rate * seconds):
        await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
        c = command(n)
        key = (c.who, c.event)
        sent[(*key, ordinals_sent[key])] = at = time.perf_counter()
        ordinals_sent[key] += 1
        requests.append(asyncio.create_task(send(c, at)))
    sending = time.perf_counter() - started
    await asyncio.gather(*requests)
    deadline = time.perf_counter() + 30
    while sent and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    collector.cancel()
    await consumer.stop()
    return {**summary(sorted(to_event)), **summary(sorted(to_answer), "http_"), "rate": rate,
            "rate_sent": round(rate * seconds / sending), "answered": len(to_event), "unanswered": len(sent),
            "refused": dict(refused)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--service", choices=sorted(LOADS), default="consent")
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    print(asyncio.run(measure(args.service, args.rate, args.seconds)))
