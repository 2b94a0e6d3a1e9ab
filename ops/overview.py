"""What flows through the platform: consumer lag per group, outbox backlog per
service, dead letters per service."""

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from ops.dead_letters import topic_of


async def consumer_lag(bootstrap: str, services: list[str]) -> dict[str, int | None]:
    """Messages each service has yet to consume, over its groups (`<service>.<topic>`) and
    their partitions (None: no committed offsets yet)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        groups = [g[0] for g in await admin.list_consumer_groups()]
        lag: dict[str, int | None] = {}
        for service in services:
            committed = {}
            for group in (g for g in groups if g.startswith(f"{service}.")):
                offsets = await admin.list_consumer_group_offsets(group)
                committed |= {(group, tp): meta.offset for tp, meta in offsets.items()}
            ends = await consumer.end_offsets(list({tp for _, tp in committed})) if committed else {}
            lag[service] = (sum(max(0, ends[tp] - offset) for (_, tp), offset in committed.items())
                            if committed else None)
        return lag
    finally:
        await consumer.stop()
        await admin.close()


async def dead_letter_counts(bootstrap: str, services: list[str]) -> dict[str, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        partitions = {s: TopicPartition(topic_of(s), 0) for s in services}
        ends = await consumer.end_offsets(list(partitions.values()))
        starts = await consumer.beginning_offsets(list(partitions.values()))
        return {s: ends[tp] - starts[tp] for s, tp in partitions.items()}
    finally:
        await consumer.stop()


async def outbox_backlog(admin_dsn: str, services: list[str]) -> dict[str, int | None]:
    """Events waiting in each service's outbox (None: the service has not migrated yet)."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        backlog: dict[str, int | None] = {}
        for service in services:
            exists = await conn.fetchval("SELECT to_regclass($1)", f"{service}.outbox")
            backlog[service] = await conn.fetchval(f'SELECT count(*) FROM "{service}".outbox') if exists else None
        return backlog
    finally:
        await conn.close()
