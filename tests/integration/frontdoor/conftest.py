"""The probe API (probe_api.py) served over real HTTP by uvicorn, as a service serves it,
on a scratch schema, a fresh topic and the real broker, signing in with a test issuer.
One per test module: the tests tell their data apart by advocate id."""

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import uvicorn
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from deploy.local.provision import drop_role, provision_role
from harness.issuer import TestIssuer
from harness.kafka import read_topic
from harness.processes import free_port
from services.runtime.identity import Authenticator
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings
from tests.conftest import dsn_for
from tests.integration.frontdoor.probe_api import build_probe_service


@dataclass
class FrontDoor:
    service: Service
    settings: ServiceSettings
    issuer: TestIssuer
    client: httpx.AsyncClient  # to the API over HTTP, at /api
    management: httpx.AsyncClient  # to /health, /ready and /metrics (the management port's app)
    topic: str  # where the probe's events go, through the outbox
    bootstrap: str

    def signed_in(self, advocate_id: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.token(advocate_id, realm_roles=roles)}"}

    async def rows(self, sql: str, *args: object) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.settings.database_url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    async def notes_of(self, advocate_id: str) -> int:
        return len(await self.rows("SELECT 1 FROM notes WHERE advocate_id = $1", advocate_id))

    async def events_about(self, advocate_id: str, at_least: int = 0) -> list[dict]:
        """The events on the probe's topic about `advocate_id`, once at least `at_least` came."""
        found: list[dict] = []
        for _ in range(100):
            records = await read_topic(self.bootstrap, self.topic, at_least=0, timeout=0.3, settle=0.2)
            found = [e for e in map(json.loads, (r.value for r in records)) if e["subject"] == advocate_id]
            if len(found) >= at_least:
                return found
        raise AssertionError(f"fewer than {at_least} events about {advocate_id} arrived")


@pytest.fixture(scope="module")
async def front_door(stack, issuer) -> AsyncIterator[FrontDoor]:
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(stack.admin_dsn)
    await provision_role(admin, urlsplit(stack.admin_dsn).path.lstrip("/"), schema)
    topic = f"test.notes.{schema}"
    kafka = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await kafka.start()
    settings = ServiceSettings(service=schema, database_url=dsn_for(stack.admin_dsn, schema, schema),
                               kafka_bootstrap_servers=stack.kafka_bootstrap, http_port=free_port(),
                               outbox_poll_seconds=0.2)
    await kafka.create_topics([NewTopic(topic, 3, 1), NewTopic(settings.dead_letter_topic, 1, 1)])
    service = build_probe_service(settings, topic, Authenticator(issuer.settings(jwks_min_refetch_seconds=0.5)))
    server = uvicorn.Server(uvicorn.Config(service.asgi, host="127.0.0.1", port=settings.http_port,
                                           lifespan="off", log_config=None, access_log=False, interface="asgi3"))
    try:
        async with service.running():
            serving = asyncio.create_task(server.serve())
            while not server.started:
                await asyncio.sleep(0.02)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}") as client, \
                    httpx.AsyncClient(transport=httpx.ASGITransport(app=service.management),
                                      base_url="http://management") as management:
                yield FrontDoor(service, settings, issuer, client, management, topic, stack.kafka_bootstrap)
            server.should_exit = True
            await serving
    finally:
        await kafka.delete_topics([topic, settings.dead_letter_topic])
        await kafka.close()
        await drop_role(admin, schema)
        await admin.close()


@pytest.fixture
def logs(caplog) -> pytest.LogCaptureFixture:
    """Everything logged, down to DEBUG (where refused tokens' reasons go)."""
    caplog.set_level(logging.DEBUG)
    return caplog
