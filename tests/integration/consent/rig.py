"""The consent rig: the shared rig (tests/integration/rig.py) with readers of what consent
publishes; people acting through the front door, signed in (`consent.person(id)`); and the
commands the privacy office sends on Kafka (and the person's, which Kafka now refuses)."""

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from harness.issuer import TestIssuer
from schemas import consent as c
from schemas import directory as d
from schemas.envelope import CloudEvent
from services.consent.config import ConsentSettings, ConsentTopics
from tests.integration.rig import ServiceRig

ADMIN = "admin-00000001"  # somebody who is not the advocate: a manager, an administrator


def new_advocate() -> str:
    return f"adv-{uuid.uuid4().hex[:12]}"


# Commands as a sender on Kafka writes them: a person's (refused there, `sign_in_required`)
# and the privacy office's and operators' (handled).

def give(advocate: str, purpose: c.Purpose = c.Purpose.RECEIVE_CONTENT, version: int = 1,
         actor: str | None = None) -> c.GiveConsent:
    return c.GiveConsent(source="/test/app", subject=advocate, data=c.Choice(
        actor=actor or advocate, advocate_id=advocate, purpose=purpose, policy_version=version,
        collection_method=c.CollectionMethod.WEB_FORM))


def refuse(advocate: str, purpose: c.Purpose = c.Purpose.RECEIVE_CONTENT, version: int = 1) -> c.RefuseConsent:
    return c.RefuseConsent(source="/test/app", subject=advocate, data=c.Choice(
        actor=advocate, advocate_id=advocate, purpose=purpose, policy_version=version,
        collection_method=c.CollectionMethod.MOBILE_APP))


def withdraw(advocate: str, purpose: c.Purpose | None = None, actor: str | None = None) -> c.WithdrawConsent:
    return c.WithdrawConsent(source="/test/app", subject=advocate,
                             data=c.Withdrawal(actor=actor or advocate, advocate_id=advocate, purpose=purpose))


def publish(purpose: c.Purpose, version: int, requires_renewal: bool = False) -> c.PublishPolicy:
    return c.PublishPolicy(source="/test/admin", subject=purpose.value, data=c.PolicyText(
        actor=ADMIN, purpose=purpose, version=version, text=f"{purpose.value} policy, version {version}",
        requires_renewal=requires_renewal))


def erase(advocate: str, actor: str | None = None) -> c.EraseAdvocate:
    return c.EraseAdvocate(source="/test/admin", subject=advocate,
                           data=c.Erasure(actor=actor or advocate, advocate_id=advocate))


def verify_ledger() -> c.VerifyLedger:
    return c.VerifyLedger(source="/test/operator", subject="ledger", data=c.LedgerCheck(actor="operator-1"))


class TopicLog:
    """Everything published on a topic since it was made: [(key, value or None for a tombstone)]."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                         enable_auto_commit=False, group_id=None)
        self.records: list[tuple[str, dict[str, Any] | None]] = []

    async def until(self, done: Callable[[list[tuple[str, Any]]], bool], what: str, timeout: float = 30.0,
                    settle: float = 0.0) -> list[tuple[str, Any]]:
        deadline = time.monotonic() + timeout
        while not done(self.records):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; saw {[v and v['type'] for _, v in self.records]}")
            await self._poll()
        settle_until = time.monotonic() + settle
        while time.monotonic() < settle_until:
            await self._poll()
        return self.records

    async def _poll(self) -> None:
        batches = await self.consumer.getmany(timeout_ms=100)
        for record in (r for batch in batches.values() for r in batch):
            self.records.append((record.key.decode(), json.loads(record.value) if record.value is not None else None))


@dataclass
class Person:
    """Someone signed in to the consent service's HTTP API (with `roles`, if any). Each
    command asserts its answer's status (`expect`) and returns the answer's JSON."""

    rig: "ConsentRig"
    advocate_id: str
    roles: tuple[str, ...] = ()

    @property
    def token(self) -> str:
        return self.rig.issuer.token(self.advocate_id, realm_roles=self.roles)

    async def call(self, method: str, path: str, body: Any = None, **options: Any) -> httpx.Response:
        return await self.rig.call(method, path, body, token=self.token, **options)

    async def expect(self, status: int, method: str, path: str, body: Any = None) -> Any:
        response = await self.call(method, path, body)
        assert response.status_code == status, response.text
        return response.json()

    async def give(self, purpose: c.Purpose = c.Purpose.RECEIVE_CONTENT, version: int = 1, method: str = "web_form",
                   expect: int = 200) -> dict[str, Any]:
        return await self.expect(expect, "POST", f"/api/me/consents/{purpose.value}/give",
                                 {"policy_version": version, "collection_method": method})

    async def refuse(self, purpose: c.Purpose = c.Purpose.RECEIVE_CONTENT, version: int = 1,
                     method: str = "mobile_app", expect: int = 200) -> dict[str, Any]:
        return await self.expect(expect, "POST", f"/api/me/consents/{purpose.value}/refuse",
                                 {"policy_version": version, "collection_method": method})

    async def withdraw(self, purpose: c.Purpose | None = None, expect: int = 200) -> dict[str, Any]:
        """One purpose, or (None) all of them."""
        path = f"/api/me/consents/{purpose.value}/withdraw" if purpose else "/api/me/consents/withdraw"
        return await self.expect(expect, "POST", path)

    async def consents(self) -> dict[str, dict[str, Any]]:
        """GET /api/me/consents, by purpose."""
        return {entry["purpose"]: entry for entry in (await self.expect(200, "GET", "/api/me/consents"))["consents"]}


@dataclass
class ConsentRig(ServiceRig):
    settings: ConsentSettings
    topics: ConsentTopics
    # Everything consent published on its events and state topics since the rig was made.
    events: TopicLog = field(init=False)
    state: TopicLog = field(init=False)
    issuer: TestIssuer = field(init=False)  # whose tokens the HTTP API trusts (conftest sets it)

    def __post_init__(self) -> None:
        self.events = TopicLog(self.bootstrap, self.topics.events)
        self.state = TopicLog(self.bootstrap, self.topics.state)

    def person(self, advocate_id: str, *roles: str) -> Person:
        return Person(self, advocate_id, roles)

    def privacy_officer(self, advocate_id: str = "officer-00000001") -> Person:
        return Person(self, advocate_id, ("privacy_officer",))

    async def join(self, *advocates: str) -> None:
        """People join the directory; returns once the service knows them."""
        await self.send_to(self.topics.directory, *[d.PersonJoined(source="/test/hr", subject=a, data=d.Profile(
            advocate_id=a, role=d.Role.EMPLOYEE)) for a in advocates])
        await self.until("SELECT count(*) FROM people WHERE advocate_id = ANY($1)", len(advocates), list(advocates),
                         what="people to join")

    async def publish_policies(self, version: int = 1) -> None:
        await self.send(*[publish(p, version) for p in c.Purpose])
        await self.events.until(lambda rs: len(of_type(rs, c.PolicyPublished, version=version)) >= len(c.Purpose),
                                f"policies of version {version}")

    async def status(self, advocate: str, purpose: c.Purpose = c.Purpose.RECEIVE_CONTENT) -> str | None:
        return await self.fetchval("SELECT status FROM consents WHERE advocate_id = $1 AND purpose = $2",
                                   advocate, purpose.value)


def of_type(records: list[tuple[str, Any]], event_type: type[CloudEvent[Any]], **data: Any) -> list[dict[str, Any]]:
    """The events of `event_type` whose data has the given values."""
    wanted = event_type.model_fields["type"].default
    return [v for _, v in records if v and v["type"] == wanted
            and all(v["data"].get(k) == (x.value if hasattr(x, "value") else x) for k, x in data.items())]


def rejections_of(records: list[tuple[str, Any]], command: CloudEvent[Any]) -> list[str]:
    return [e["data"]["reason"] for e in of_type(records, c.ConsentCommandRejected, command_id=command.id)]
