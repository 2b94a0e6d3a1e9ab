"""Runtime throughput on the local stack: `python -m benchmarks.runtime [--events N]`.

Measures, on the same topic in the same run:
- the outbox relay: events published per second from a pre-filled outbox;
- a bare aiokafka consumer draining the topic (the ceiling);
- the idempotent consumer, one transaction per message (`Inbox.handle_each_once`, batches of 1);
- the idempotent consumer in batches of 100 (`Inbox.handle_each_once`, one effect per event);
- the batch consumer (`Inbox.handle_batch_once`, one effect per batch of 100).
"""

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pydantic import TypeAdapter

from deploy.local import stack
from deploy.local.config import StackConfig
from deploy.local.provision import drop_role, provision_role
from harness.probe import Count, Probed, build_batch_probe, build_probe
from services.runtime.migrate import RUNTIME_MIGRATIONS, migrate
from services.runtime.relay import OutboxRelay
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings
from services.runtime.unit_of_work import UnitOfWork


async def timed(what: str, events: int, work: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await work()
    rate = events / (time.perf_counter() - started)
    print(f"{what:<44} {rate:>10,.0f} events/s", flush=True)
    return rate


async def until(check: Callable[[], Awaitable[bool]], poll: float = 0.05) -> None:
    while not await check():
        await asyncio.sleep(poll)


async def bare_drain(bootstrap: str, topic: str, events: int, batch: int = 500,
                     decode: TypeAdapter[Any] | None = None) -> None:
    """The ceiling: a plain aiokafka consumer reading `events` records, decoding nothing
    (or, given a pydantic `decode` adapter, validating each record with it and no more)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"bare-{uuid.uuid4().hex[:6]}",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    seen = 0
    try:
        while seen < events:
            for records in (await consumer.getmany(timeout_ms=500, max_records=batch)).values():
                seen += len(records)
                if decode is not None:
                    for record in records:
                        decode.validate_json(record.value)
    finally:
        await consumer.stop()


async def main(events: int) -> None:
    config = StackConfig.from_env()
    stack.up(config)
    admin = await asyncpg.connect(config.admin_dsn)
    kafka = AIOKafkaAdminClient(bootstrap_servers=config.kafka_bootstrap)
    await kafka.start()
    names = [f"bench_{uuid.uuid4().hex[:8]}" for _ in range(4)]
    topic = f"bench.runtime.{uuid.uuid4().hex[:8]}"
    try:
        for name in names:
            await provision_role(admin, config.database, name)
        await kafka.create_topics([NewTopic(topic, 6, 1), NewTopic(topic + ".out", 6, 1)] + [NewTopic(f"advocacy.{n}.deadletter.v1", 1, 1) for n in names])
        source, single, each, batch = (
            ServiceSettings(service=n, database_url=config.service_dsn(n), kafka_bootstrap_servers=config.kafka_bootstrap,
                            http_port=1) for n in names)

        conn = await asyncpg.connect(source.database_url)
        await migrate(conn, {"runtime": RUNTIME_MIGRATIONS})
        async with conn.transaction():
            await UnitOfWork(conn, "/bench").emit_many(topic, Probed, [(f"k{i % 100}", Count(n=i)) for i in range(events)])
        relay = asyncio.create_task(OutboxRelay(source.database_url, source.service, config.kafka_bootstrap).run())
        await timed("outbox relay, publish", events, lambda: until(lambda: _empty(conn)))
        relay.cancel()
        await conn.close()

        bare = await timed("bare aiokafka consumer, drain", events, lambda: bare_drain(config.kafka_bootstrap, topic, events))
        for label, service in (
                ("idempotent consumer, one tx per message", build_probe(single, topic, topic + ".out", max_records=1)),
                ("idempotent consumer, batches of 100", build_probe(each, topic, topic + ".out")),
                ("batch consumer, batches of 100", build_batch_probe(batch, topic))):
            async with service.running():
                rate = await timed(label, events, partial(until, partial(_handled, service, events), poll=0.2))
            print(f"{'':<44} {rate / bare:>10.2f} x bare")
    finally:
        await kafka.delete_topics([topic, topic + ".out"] + [f"advocacy.{n}.deadletter.v1" for n in names])
        await kafka.close()
        for name in names:
            await drop_role(admin, name)
        await admin.close()


async def _empty(conn: asyncpg.Connection) -> bool:
    left: int = await conn.fetchval("SELECT count(*) FROM outbox")
    return left == 0


async def _handled(service: Service, events: int) -> bool:
    if service.pool is None:
        raise RuntimeError("the probe service is not running: it has no pool")
    handled: int = await service.pool.fetchval("SELECT count(*) FROM effects")
    return handled >= events


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    asyncio.run(main(parser.parse_args().events))
