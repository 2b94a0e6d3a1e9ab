"""Dead letters: list, show and replay what a service could not handle.

`replay` sends a dead letter's original key, value and headers back to the topic it
came from; consumers are idempotent, so replaying twice does no harm, and a
consumer group per service remembers what was replayed (`--all` replays the rest).
A letter from a topic about people holds no key or value (services/runtime/dead_letters.py):
`replay` reads the original at its topic, partition and offset, as long as that topic
keeps it (its retention); past that, there is nothing left to replay, by design.
"""

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition


def topic_of(service: str) -> str:
    return f"advocacy.{service}.deadletter.v1"


@dataclass(frozen=True)
class DeadLetter:
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @classmethod
    def of(cls, record: ConsumerRecord) -> "DeadLetter":
        headers = {k: v.decode(errors="replace") for k, v in record.headers}
        return cls(record.offset, record.key, record.value or b"", headers)

    @property
    def origin(self) -> str:
        h = self.headers
        return f"{h.get('dlq-original-topic')}/{h.get('dlq-original-partition')}@{h.get('dlq-original-offset')}"

    @property
    def value_omitted(self) -> bool:
        return "dlq-value-omitted" in self.headers

    @property
    def reason(self) -> str:
        return f"{self.headers.get('dlq-error-type')}: {self.headers.get('dlq-error-message')}"


async def read(bootstrap: str, service: str, group: str | None = None) -> list[DeadLetter]:
    """All dead letters of `service` (or, with `group`, those after its committed position)."""
    topic = topic_of(service)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)  # dead-letter topics have one partition
        consumer.assign([partition])
        end = (await consumer.end_offsets([partition]))[partition]
        letters: list[DeadLetter] = []
        while await consumer.position(partition) < end:
            batch = await consumer.getmany(partition, timeout_ms=1000)
            letters += [DeadLetter.of(r) for r in batch.get(partition, [])]
        return letters
    finally:
        await consumer.stop()


async def replay(bootstrap: str, service: str, offset: int | None = None) -> list[DeadLetter]:
    """Replay one dead letter (by offset) or all not replayed yet; returns what was sent."""
    group = f"ops.replay.{service}"
    letters = await read(bootstrap, service, group=None if offset is not None else group)
    chosen = [d for d in letters if offset is None or d.offset == offset]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for letter in chosen:
            key, value, original_headers = letter.key, letter.value, letter.headers
            if letter.value_omitted:
                key, value, original_headers = await original(bootstrap, letter)
            headers = [(k, v.encode()) for k, v in original_headers.items() if not k.startswith("dlq-")]
            headers.append(("dlq-replayed-from", f"{topic_of(service)}@{letter.offset}".encode()))
            await producer.send_and_wait(letter.headers["dlq-original-topic"], value, key=key, headers=headers)
    finally:
        await producer.stop()
    if offset is None and chosen:
        await _remember(bootstrap, group, service, chosen[-1].offset + 1)
    return chosen


class OriginalGone(LookupError):
    """The source topic no longer holds a letter's original (past its retention)."""


async def original(bootstrap: str, letter: DeadLetter) -> tuple[bytes | None, bytes, dict[str, str]]:
    """Key, value and headers of the record a letter stands for, read at its origin."""
    h = letter.headers
    partition = TopicPartition(h["dlq-original-topic"], int(h["dlq-original-partition"]))
    offset = int(h["dlq-original-offset"])
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([partition])
        first = (await consumer.beginning_offsets([partition]))[partition]
        if offset < first:
            raise OriginalGone(f"{letter.origin}: the topic keeps offsets from {first} on")
        consumer.seek(partition, offset)
        record = await consumer.getone(partition)
        assert record.offset == offset, f"{letter.origin}: read offset {record.offset}"
        return record.key, record.value or b"", {k: v.decode(errors="replace") for k, v in record.headers}
    finally:
        await consumer.stop()


async def _remember(bootstrap: str, group: str, service: str, next_offset: int) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(topic_of(service), 0)
        consumer.assign([partition])
        await consumer.commit({partition: next_offset})
    finally:
        await consumer.stop()
