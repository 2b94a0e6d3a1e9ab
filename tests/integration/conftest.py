"""Shared by the integration tests: the probe service (harness/probe.py) wired to a scratch
schema and fresh topics, and a test OpenID Connect issuer (harness/issuer.py)."""

from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import pytest

from harness.issuer import TestIssuer
from harness.probe import build_probe
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings


@dataclass
class ProbeRig:
    service: Service
    settings: ServiceSettings
    input_topic: str
    output_topic: str

    async def effects(self) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.settings.database_url)
        try:
            return await conn.fetch("SELECT event_id, n FROM effects ORDER BY at")
        finally:
            await conn.close()


@pytest.fixture
async def probe(stack, scratch_schema, make_topics) -> ProbeRig:
    schema, dsn = await scratch_schema()
    input_topic, output_topic = await make_topics("probe-in", "probe-out")
    settings = ServiceSettings(
        service=schema, database_url=dsn, kafka_bootstrap_servers=stack.kafka_bootstrap,
        http_port=1, outbox_poll_seconds=0.2, retry_deadline_seconds=30,
    )
    await make_topics(settings.dead_letter_topic, partitions=1, exact=True)
    return ProbeRig(build_probe(settings, input_topic, output_topic), settings, input_topic, output_topic)


@pytest.fixture(scope="session")
def issuer() -> Iterator[TestIssuer]:
    """An OIDC issuer on 127.0.0.1 whose tokens the services' HTTP APIs trust when a rig is
    made with `identity=issuer.settings()`; `issuer.token(sub, realm_roles=(…))` signs one."""
    with TestIssuer() as running:
        yield running
