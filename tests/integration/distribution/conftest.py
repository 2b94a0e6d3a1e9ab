"""The distribution service on a scratch schema and fresh topics, serving HTTP on a free
port; `DistributionRig` plays the directory, the consent and curation services and a
connector, and reads what distribution emits."""

import asyncio
import urllib.request
from dataclasses import fields
from datetime import UTC, datetime

import pytest

from schemas import consent, curation, directory
from schemas.consent import ChangedBy, ConsentRecord, Purpose, Status
from schemas.directory import Profile
from services.distribution.app import build_service
from services.distribution.config import DistributionSettings, DistributionTopics
from harness.kafka import eventually
from harness.processes import free_port
from tests.integration.rig import ServiceRig

HASH = "0" * 64


class DistributionRig(ServiceRig):
    settings: DistributionSettings
    topics: DistributionTopics

    def join_event(self, advocate: str, **profile) -> directory.PersonJoined:
        return directory.PersonJoined(source="/hr", subject=advocate, data=Profile(
            advocate_id=advocate, **{"role": "employee", "languages": ["de"], **profile}))

    async def join(self, advocate: str, **profile) -> None:
        await self.send(self.topics.directory, self.join_event(advocate, **profile))

    def consent_event(self, advocate: str, purpose: Purpose, valid: bool = True):
        event_type, status = (consent.ConsentGiven, Status.GIVEN) if valid else (consent.ConsentWithdrawn, Status.WITHDRAWN)
        return event_type(source="/advocacy/consent", subject=advocate, data=ConsentRecord(
            advocate_id=advocate, purpose=purpose, status=status, valid=valid, changed_by=ChangedBy.SUBJECT,
            changed_at=datetime.now(UTC), ledger_hash=HASH))

    async def consent(self, advocate: str, *purposes: Purpose, valid: bool = True) -> None:
        await self.send(self.topics.consent_events, *[self.consent_event(advocate, p, valid) for p in purposes])

    def published(self, item_id: str, **content) -> curation.ItemPublished:
        body = {"source_url": "https://example.org/news/1?ref=home", "title": "Our new plant", "language": "de",
                **content}
        return curation.ItemPublished(source="/advocacy/curation", subject=item_id, data=curation.PublishedItem(
            item_id=item_id, content=curation.ItemContent(**body), published_at=datetime.now(UTC)))

    async def publish(self, item_id: str, **content) -> None:
        await self.send(self.topics.curation_events, self.published(item_id, **content))

    async def events_now(self, type_: str) -> list[dict]:
        return await self.emitted(lambda e: e["type"] == type_)

    async def events(self, type_: str, at_least: int = 1, timeout: float = 20.0) -> list[dict]:
        return await self.until_emitted(lambda e: e["type"] == type_, at_least, timeout, type_)

    async def get(self, path: str, user_agent: str = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
                  headers: dict[str, str] | None = None, method: str = "GET"):
        """GET (or `method`) without following redirects (in a thread: the server runs on this
        loop); (status, headers). `headers` are sent besides the User-Agent."""
        return await asyncio.to_thread(self._get, path, user_agent, headers or {}, method)

    def _get(self, path: str, user_agent: str, headers: dict[str, str], method: str):

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        request = urllib.request.Request(f"http://127.0.0.1:{self.settings.http_port}{path}",
                                         headers={"User-Agent": user_agent, **headers}, method=method)
        try:
            with urllib.request.build_opener(NoRedirect).open(request, timeout=5) as response:
                return response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers)


@pytest.fixture
async def rig(stack, scratch_schema, make_topics):
    schema, dsn = await scratch_schema()
    names = await make_topics(*[f.name for f in fields(DistributionTopics)], partitions=3)
    topics = DistributionTopics(*names)
    port = free_port()
    settings = DistributionSettings(
        service=schema, database_url=dsn, kafka_bootstrap_servers=stack.kafka_bootstrap, http_port=port,
        public_base_url=f"http://127.0.0.1:{port}", schedule_seconds=0.2, notification_daily_cap=3)
    await make_topics(settings.dead_letter_topic, partitions=1, exact=True)
    service = build_service(settings, topics)
    serving = asyncio.create_task(service.run())
    rig = DistributionRig(service, settings, topics, stack.kafka_bootstrap)

    async def ready() -> bool:
        try:
            return (await rig.get("/ready"))[0] == 200
        except OSError:
            return False

    await eventually(ready, what="distribution ready")
    yield rig
    service.server.should_exit = True
    await serving
