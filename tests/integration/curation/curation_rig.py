"""The curation rig: the service on a scratch schema and fresh topics, a clock the test sets,
and helpers to send commands and read events."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from pydantic import TypeAdapter

from schemas import curation as c
from schemas.envelope import CloudEvent
from services.curation.app import build_service
from services.curation.config import CurationSettings, CurationTopics
from services.runtime.service import Service
from harness.kafka import produce, read_topic

EVENT = TypeAdapter(c.AnyEvent)
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class CurationRig:
    settings: CurationSettings
    topics: CurationTopics
    bootstrap: str
    clock: Clock = field(default_factory=Clock)

    def build(self, **settings: Any) -> Service:
        """A service instance, with `settings` changed; call again for a restart or a second replica."""
        return build_service(self.settings.model_copy(update=settings), self.topics, self.clock)

    async def send(self, *commands: CloudEvent[Any]) -> None:
        await self.publish(self.topics.commands, *commands)

    async def publish(self, topic: str, *events: CloudEvent[Any]) -> None:
        """Events of other services (directory, consent) on `topic`, keyed by subject."""
        await produce(self.bootstrap, topic, [(e.subject.encode(), e.to_bytes()) for e in events])

    async def send_raw(self, key: bytes, value: bytes) -> None:
        await produce(self.bootstrap, self.topics.commands, [(key, value)])

    async def events(self, at_least: int, settle: float = 0.5, timeout: float = 30.0) -> list[CloudEvent[Any]]:
        """Every event the service has emitted: at least `at_least`, plus what comes within `settle`."""
        records = await read_topic(self.bootstrap, self.topics.events, at_least, timeout=timeout, settle=settle)
        return [EVENT.validate_json(r.value) for r in records]

    async def query(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.settings.database_url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()


def about(events: list[CloudEvent[Any]], subject: str) -> list[str]:
    """The short types of the events about `subject`, in order: ['drafted', 'submitted', …]."""
    return [e.type.removeprefix("advocacy.curation.").removesuffix(".v1").split(".", 1)[1]
            for e in events if e.subject == subject]


def rejections(events: list[CloudEvent[Any]]) -> dict[str, str]:
    """Reason by command id."""
    return {e.data.command_id: e.data.reason for e in events if isinstance(e, c.CurationCommandRejected)}


# Commands, built the way an editor's app sends them.

def content(**changes: Any) -> c.ItemContent:
    fields = dict(source_url="https://example.com/news/plant", title="Our new plant opens", summary="Today.",
                  language="en", topics=["sustainability"], content_type="article", hashtags=["energy"],
                  disclosure="#employee", share_texts={"linkedin": "Proud of our team!", "x": "New plant!"},
                  audience={"roles": ["employee", "partner"], "languages": ["en", "de"]}, editable=False)
    return c.ItemContent(**{**fields, **changes})


def command(kind: type[CloudEvent[Any]], subject: str, actor: str = "editor-a", **data: Any) -> CloudEvent[Any]:
    data_model = kind.model_fields["data"].annotation
    return kind(source="/editor-app", subject=subject, data=data_model(actor=actor, **data))
