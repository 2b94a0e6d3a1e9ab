"""Fixtures shared by the integration and end-to-end tests: the real stack (tests/stack.py),
its Keycloak realm, a scratch database schema with its own login role, and fresh Kafka topics."""

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from deploy.local import keycloak_server
from deploy.local.keycloak import Realm
from deploy.local.provision import drop_role, provision_role
from tests.stack import Stack, config_for_tests, find_stack

# failure_reports: a failure is reported even when a finalizer parses during its report;
# pytester: tests/unit/test_failure_reports.py runs pytest on a test of its own.
pytest_plugins = ["tests.failure_reports", "pytester"]

os.environ["ADVOCACY_ENV"] = "local"  # the test stack's passwords and keys are development ones


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with find_stack() as found:
        yield found


@pytest.fixture(scope="session")
def keycloak(stack: Stack) -> Realm:
    """The realm `advocacy` of the stack's Keycloak; without one, the test stack's is started."""
    if stack.keycloak_url:
        return Realm(stack.keycloak_url)
    config = config_for_tests()
    keycloak_server.start(config)
    return Realm.of(config)


def dsn_for(admin_dsn: str, role: str, password: str) -> str:
    parts = urlsplit(admin_dsn)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{role}:{password}@{host}"))


@pytest.fixture
async def scratch_schema(stack: Stack) -> AsyncIterator[object]:
    """`await scratch_schema()` makes a schema owned by a new login role, as the local
    stack provisions each service, and returns (name, dsn). All are dropped afterwards."""
    made: list[str] = []

    async def create() -> tuple[str, str]:
        name = f"t_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(stack.admin_dsn)
        try:
            await provision_role(admin, urlsplit(stack.admin_dsn).path.lstrip("/"), name)
        finally:
            await admin.close()
        made.append(name)
        return name, dsn_for(stack.admin_dsn, name, name)

    yield create
    admin = await asyncpg.connect(stack.admin_dsn)
    try:
        for name in made:
            await drop_role(admin, name)
    finally:
        await admin.close()


@pytest.fixture
async def make_topics(stack: Stack) -> AsyncIterator[object]:
    """`await make_topics("in", "out")` creates topics named after those, made unique, and
    returns the names; `exact=True` takes the names as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    made: list[str] = []

    async def create(*names: str, partitions: int = 3, exact: bool = False) -> list[str]:
        suffix = uuid.uuid4().hex[:8]
        full = list(names) if exact else [f"test.{name}.{suffix}" for name in names]
        await admin.create_topics([NewTopic(n, partitions, 1) for n in full])
        made.extend(full)
        return full

    try:
        yield create
    finally:
        if made:
            await admin.delete_topics(made)
        await admin.close()
