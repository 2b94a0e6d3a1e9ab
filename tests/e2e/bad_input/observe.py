"""Where each input's outcome shows: a rejection event on the service's events topic naming
the command, a dead letter naming the original topic, partition and offset, or the
service's inbox row for the event id (its effect's transaction). Where a service keeps no
row per event (ADR 0021: idempotent effects, relay-numbered records, types it has no
handler for), its consumer group's committed offset past the input shows it was handled:
a subscriber commits only after its transaction."""

import json
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from ops.bus import Tail
from schemas.catalog import SERVICES


def dead_letter_topic(service: str) -> str:
    return f"advocacy.{service}.deadletter.v1"


class Outcomes(Tail):
    """Follows the dead-letter and events topics of every service from `start()` on, keeping
    dead letters by origin and command rejections by command id."""

    def __init__(self, bootstrap: str, admin_dsn: str) -> None:
        super().__init__(bootstrap, *(dead_letter_topic(s) for s in SERVICES),
                         *(f"advocacy.{s}.events.v1" for s in SERVICES))
        self.admin_dsn = admin_dsn
        self.dead: dict[tuple[str, str, int, int], dict[str, str]] = {}  # (service, topic, partition, offset)
        self.rejections: dict[tuple[str, str], str] = {}  # (service, command id) -> reason

    async def _collect(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    self._keep(record)

    def _keep(self, record: Any) -> None:
        service = record.topic.split(".")[1]
        if record.topic == dead_letter_topic(service):
            headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
            origin = (headers["dlq-original-topic"], int(headers["dlq-original-partition"]),
                      int(headers["dlq-original-offset"]))
            self.dead[(headers["dlq-service"], *origin)] = headers
        elif record.value and b".command.rejected.v1" in record.value:
            event = _from_the_service(record.value, service)
            if event and event["type"] == f"advocacy.{service}.command.rejected.v1":
                self.rejections[(service, event["data"]["command_id"])] = event["data"]["reason"]

    async def ends(self) -> dict[Any, int]:
        """The end offset of every followed partition, now."""
        return await self.consumer.end_offsets(list(self.consumer.assignment()))

    async def behind(self, targets: dict[Any, int]) -> int:
        """How many records up to `targets` are still to be read."""
        if self._task.done():  # the collector failed: say why rather than wait for ever
            self._task.result()
        positions = {tp: await self.consumer.position(tp) for tp in targets}
        return sum(max(0, end - positions[tp]) for tp, end in targets.items())

    async def handled(self, service: str, ids: list[str]) -> set[str]:
        """The ids `service`'s inbox holds (ids Postgres cannot hold are never there)."""
        storable = [i for i in ids if "\x00" not in i and _encodable(i)]
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            rows = await conn.fetch(f'SELECT event_id FROM "{service}".inbox WHERE consumer = $1 '
                                    "AND event_id = ANY($2::text[])", service, storable)
            return {r["event_id"] for r in rows}
        finally:
            await conn.close()

    async def committed(self, service: str, topics: set[str]) -> dict[tuple[str, int], int]:
        """The offsets `service`'s consumer groups committed on `topics`, per (topic, partition):
        every record below one was handled (or dead-lettered, or rejected) and committed."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            committed = {}
            for topic in topics:
                offsets = await admin.list_consumer_group_offsets(f"{service}.{topic}")
                committed |= {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()
                              if tp.topic == topic and meta is not None}
            return committed
        finally:
            await admin.close()

    async def rejections_waiting(self, service: str, command_ids: set[str]) -> int:
        """Rejections of these commands still in the service's outbox (not yet published)."""
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            rows = await conn.fetch(f'SELECT payload FROM "{service}".outbox WHERE type = $1',
                                    f"advocacy.{service}.command.rejected.v1")
        finally:
            await conn.close()
        return sum(1 for r in rows if json.loads(r["payload"])["data"]["command_id"] in command_ids)


def _from_the_service(value: bytes, service: str) -> dict[str, Any] | None:
    """The event if `service` published it: distribution's events topic is also an input
    topic (metrics reads it), so the run's own garbage is on it too."""
    try:
        event = json.loads(value)
    except ValueError:
        return None
    return event if isinstance(event, dict) and event.get("source") == f"/advocacy/{service}" else None


def _encodable(text: str) -> bool:
    try:
        text.encode()
        return True
    except UnicodeEncodeError:
        return False

