"""What every service's test rig does: send events as other services would, read the
service's own tables, and wait for what it emits."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from services.runtime.service import Service
from services.runtime.settings import ServiceSettings
from harness.kafka import eventually, produce, read_topic


@dataclass
class ServiceRig:
    service: Service
    settings: ServiceSettings
    topics: Any  # the service's Topics dataclass; `topics.events` is what it emits
    bootstrap: str

    async def send(self, topic: str, *events) -> None:
        await produce(self.bootstrap, topic, [(e.subject.encode(), e.to_bytes()) for e in events])

    async def fetch(self, sql: str, *args) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.settings.database_url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    async def count(self, table: str) -> int:
        return (await self.fetch(f"SELECT count(*) AS n FROM {table}"))[0]["n"]

    async def emitted(self, match: Callable[[dict], bool]) -> list[dict]:
        """What the service has emitted so far that `match` accepts, as JSON."""
        records = await read_topic(self.bootstrap, self.topics.events, at_least=0, timeout=0.5, settle=0.3)
        return [e for e in (json.loads(r.value) for r in records) if match(e)]

    async def until_emitted(self, match: Callable[[dict], bool], at_least: int = 1, timeout: float = 20.0,
                            what: str = "events") -> list[dict]:
        found: list[dict] = []

        async def enough() -> bool:
            found[:] = await self.emitted(match)
            return len(found) >= at_least

        await eventually(enough, timeout=timeout, what=f"{at_least} × {what}")
        return found
