"""Whether the platform has settled (every consumer caught up, every outbox empty), and who
is in a consumer group: what an operator sees with `advocacy flow`."""

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from ops.dead_letters import topic_of
from ops.overview import consumer_lag, outbox_backlog
from schemas.catalog import SERVICES


async def quiet(bootstrap: str, admin_dsn: str) -> list[str]:
    """Nothing waiting anywhere: outboxes first, then lag, then outboxes again, so an event
    relayed while lag was read shows up in one of the two (empty: settled)."""
    before = await outbox_backlog(admin_dsn, list(SERVICES))
    lag = await consumer_lag(bootstrap, list(SERVICES))
    after = await outbox_backlog(admin_dsn, list(SERVICES))
    waiting = {f"{name} outbox": n for name, n in (before | after).items() if n}
    waiting |= {f"{name} lag": n for name, n in lag.items() if n}
    return [f"still flowing: {waiting}"] if waiting else []


async def group_members(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
        [described] = response.to_object()["groups"]
        return len(described["members"])
    finally:
        await admin.close()


async def dead_letter_ends(bootstrap: str) -> dict[str, int]:
    """Where each service's dead-letter topic ends now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic_of(s), 0) for s in SERVICES])
        return {tp.topic.split(".")[1]: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def dead_letters_about(bootstrap: str, since: dict[str, int], needles: list[str]) -> dict[str, int]:
    """Dead letters per service after offset `since[service]` whose message names one of
    `needles` (the run's tag, its share ids): another test's bad input is not this run's."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        found = {}
        for service, start in since.items():
            tp = TopicPartition(topic_of(service), 0)
            consumer.assign([tp])
            end = (await consumer.end_offsets([tp]))[tp]
            consumer.seek(tp, start)
            letters = []
            while await consumer.position(tp) < end:
                letters += (await consumer.getmany(tp, timeout_ms=1000)).get(tp, [])
            found[service] = sum(1 for r in letters if any(n.encode() in (r.value or b"") for n in needles))
        return found
    finally:
        await consumer.stop()
