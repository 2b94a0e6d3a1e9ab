"""The relay numbers what it publishes (ADR 0021): numbers rise in the order rows are sent,
not in the order their seqs were taken, and a row sent again after a crash keeps its number,
which consumers use to recognise it."""

import asyncpg
from aiokafka import AIOKafkaProducer

from harness.kafka import read_topic
from harness.probe import Count, Probed
from services.runtime.migrate import RUNTIME_MIGRATIONS, migrate
from services.runtime.relay import OutboxRelay
from services.runtime.unit_of_work import UnitOfWork


async def emit(conn: asyncpg.Connection, topic: str, *ns: int) -> list[str]:
    async with conn.transaction():
        uow = UnitOfWork(conn, "/test")
        await uow.emit_many(topic, Probed, [(f"agg-{n}", Count(n=n)) for n in ns])
    return [e.id for e in uow.emitted]


async def test_numbers_follow_the_sending_order_and_a_row_sent_again_keeps_its_number(stack, scratch_schema,
                                                                                       make_topics):
    schema, dsn = await scratch_schema()
    [topic] = await make_topics("numbered", partitions=1)
    conn, late = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    relay = OutboxRelay(dsn, schema, stack.kafka_bootstrap, batch_size=4)
    try:
        await migrate(conn, {"runtime": RUNTIME_MIGRATIONS})
        # A transaction takes a seq first but commits after a later one: seq order is not
        # the order the relay sees rows in.
        slow = late.transaction()
        await slow.start()
        await UnitOfWork(late, "/test").emit(topic, Probed, "agg-slow", Count(n=-1))
        first = await emit(conn, topic, 0, 1, 2)
        numbered = await relay.numbered_batch(conn)
        assert [r["publication"] for r in numbered] == [1, 2, 3]
        await slow.commit()
        await emit(conn, topic, 3, 4)

        # The relay died after sending, before deleting: its rows go again, first, as they were.
        again = await relay.numbered_batch(conn)
        assert [r["publication"] for r in again] == [1, 2, 3, 4]
        seq_of = {r["publication"]: r["seq"] for r in again}
        assert seq_of[4] < seq_of[1], "the slow row, the lowest seq, is numbered after those sent before it"

        producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            assert await relay.publish_batch(conn, producer) == 4
            assert await relay.publish_batch(conn, producer) == 2
        finally:
            await producer.stop()
    finally:
        await conn.close()
        await late.close()

    records = await read_topic(stack.kafka_bootstrap, topic, at_least=6)
    headers = [dict(r.headers) for r in records]
    assert [h["publisher"] for h in headers] == [schema.encode()] * 6
    assert [int(h["publication"]) for h in headers] == [1, 2, 3, 4, 5, 6]
    assert [r.value for r in records][:3] == [r["payload"] for r in numbered]
    assert len(first) == 3
