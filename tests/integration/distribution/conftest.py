"""The distribution service on the shared rig (tests/integration/rig.py), serving HTTP on a
free port (the redirect and the API, which trusts the session's test issuer);
`DistributionRig` plays the directory, the consent and curation services and a connector,
signs people in, and reads what distribution emits."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from harness.issuer import TestIssuer
from schemas import consent, curation, directory, distribution
from schemas.catalog import CONTRACTS
from schemas.consent import ChangedBy, ConsentRecord, Purpose, Status
from schemas.directory import Profile
from services.distribution.app import build_service
from services.distribution.config import DistributionSettings, DistributionTopics
from tests.integration.rig import ServiceRig, make_rig, next_sequence

HASH = "0" * 64
SHARE_CREATED = "advocacy.distribution.share.created.v1"
SHARE_CANCELLED = "advocacy.distribution.share.cancelled.v1"
REJECTED = "advocacy.distribution.command.rejected.v1"
DISTRIBUTED = "advocacy.distribution.item.distributed.v2"
# DistributionTopics' field -> the event types published there, from the contracts' catalog.
_TYPES_BY_TOPIC = {field: {c.model_fields["type"].default for c in CONTRACTS[topic]}
                   for field, topic in (("events", distribution.EVENTS_TOPIC), ("posts", distribution.POSTS_TOPIC),
                                        ("items", distribution.ITEMS_TOPIC))}


class DistributionRig(ServiceRig):
    settings: DistributionSettings
    topics: DistributionTopics
    issuer: TestIssuer  # set by the fixture: whose tokens the API trusts

    # --- people signed in ------------------------------------------------------------------

    def token(self, advocate: str, *roles: str) -> str:
        """A token of the test issuer for `advocate` (its `sub`), with realm `roles`."""
        return self.issuer.token(sub=advocate, realm_roles=roles)

    async def as_person(self, advocate: str, method: str, path: str, body: Any = None) -> httpx.Response:
        """A request to the API signed in as `advocate`."""
        return await self.call(method, path, body, token=self.token(advocate))

    async def send_bytes(self, method: str, path: str, content: bytes, headers: dict[str, str]) -> httpx.Response:
        """A request whose body is `content` as it is: for bodies no JSON encoder would make."""
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.settings.http_port}", timeout=10) as client:
            return await client.request(method, path, content=content, headers=headers)

    async def share(self, advocate: str, item: str, network: str = "linkedin", **extra: Any) -> httpx.Response:
        """`advocate` asks to share `item` (POST /api/me/shares); `scheduled_at` may be a datetime."""
        if isinstance(extra.get("scheduled_at"), datetime):
            extra["scheduled_at"] = extra["scheduled_at"].isoformat()
        return await self.as_person(advocate, "POST", "/api/me/shares",
                                    {"item_id": item, "network": network, **extra})

    async def shared(self, advocate: str, item: str, network: str = "linkedin", **extra: Any) -> dict:
        """As `share`, for a share that must be made: its answer (the share)."""
        response = await self.share(advocate, item, network, **extra)
        assert response.status_code == 201, response.text
        return response.json()

    async def feed(self, advocate: str, **params: Any) -> dict:
        """A page of `advocate`'s feed (GET /api/me/feed)."""
        query = f"?{httpx.QueryParams(params)}" if params else ""
        response = await self.as_person(advocate, "GET", f"/api/me/feed{query}")
        assert response.status_code == 200, response.text
        return response.json()

    def join_event(self, advocate: str, **profile) -> directory.PersonJoined:
        return directory.PersonJoined(source="/hr", subject=advocate, data=Profile(
            advocate_id=advocate, **{"role": "employee", "languages": ["de"], **profile}))

    async def join(self, advocate: str, **profile) -> None:
        await self.send_to(self.topics.directory, self.join_event(advocate, **profile))

    def consent_event(self, advocate: str, purpose: Purpose, valid: bool = True):
        event_type, status = (consent.ConsentGiven, Status.GIVEN) if valid else (consent.ConsentWithdrawn, Status.WITHDRAWN)
        return event_type(source="/advocacy/consent", subject=advocate, consentsequence=next_sequence(),
                          data=ConsentRecord(advocate_id=advocate, purpose=purpose, status=status, valid=valid,
                                             changed_by=ChangedBy.SUBJECT, changed_at=datetime.now(UTC),
                                             ledger_hash=HASH))

    async def consent(self, advocate: str, *purposes: Purpose, valid: bool = True) -> None:
        await self.send_to(self.topics.consent_events, *[self.consent_event(advocate, p, valid) for p in purposes])

    def published(self, item_id: str, **content) -> curation.ItemPublished:
        body = {"source_url": "https://example.org/news/1?ref=home", "title": "Our new plant", "language": "de",
                **content}
        return curation.ItemPublished(source="/advocacy/curation", subject=item_id, data=curation.PublishedItem(
            item_id=item_id, content=curation.ItemContent(**body), published_at=datetime.now(UTC)))

    async def publish(self, item_id: str, **content) -> None:
        await self.send_to(self.topics.curation_events, self.published(item_id, **content))

    def topic_of(self, type_: str) -> str:
        """Where distribution publishes events of `type_` (its three topics, ADR 0018)."""
        field = next(name for name, types in _TYPES_BY_TOPIC.items() if type_ in types)
        return getattr(self.topics, field)

    async def events_now(self, type_: str) -> list[dict]:
        return await self.emitted(lambda e: e["type"] == type_, self.topic_of(type_))

    async def events(self, type_: str, at_least: int = 1, timeout: float = 20.0) -> list[dict]:
        return await self.until_emitted(lambda e: e["type"] == type_, at_least, timeout, type_,
                                        topic=self.topic_of(type_))

    async def visit(self, path: str, user_agent: str = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
                    headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict[str, str]]:
        """A visitor's request (`method`, GET by default) without following redirects:
        (status, headers). `headers` are sent besides the User-Agent."""
        response = await self.call(method, path, headers={"User-Agent": user_agent, **(headers or {})})
        return response.status_code, dict(response.headers)


@pytest.fixture
async def distribution(stack, scratch_schema, make_topics, issuer) -> AsyncIterator[DistributionRig]:
    """Distribution serving HTTP on a free port (the redirect and the API, trusting `issuer`),
    its tracked links pointing there."""
    async with make_rig(DistributionRig, stack, scratch_schema, make_topics, build_service, DistributionSettings,
                        DistributionTopics, identity=issuer.settings(), schedule_seconds=0.2,
                        distribution_audience_report_seconds=0.2, notification_daily_cap=3) as rig:
        rig.issuer = issuer
        async with rig.serving():
            yield rig
