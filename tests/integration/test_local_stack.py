"""The local stack (deploy/local) against real processes: idempotent up, health, topics, role isolation, restart.

Starts the stack if needed (python -m deploy.local up) and leaves it running for other tests.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from deploy.local import stack
from deploy.local.config import StackConfig
from deploy.local.postgres import start_database, stop_database
from deploy.local.topics import describe
from schemas.platform import load_platform

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def config() -> StackConfig:
    config = StackConfig.from_env()
    stack.up(config)
    return config


def test_second_up_is_a_noop(config: StackConfig, capsys: pytest.CaptureFixture[str]) -> None:
    result = stack.up(config)
    assert (result.postgres_started, result.kafka_started, result.topics_created) == (False, False, [])
    out = capsys.readouterr().out
    assert "postgres: already running" in out and "kafka: already running" in out


def test_status_is_healthy(config: StackConfig) -> None:
    assert stack.status(config) is True


async def test_declared_topics_exist_with_declared_partitions(config: StackConfig) -> None:
    actual = await describe(config.kafka_bootstrap)
    declared = {t.name: t.partitions for t in load_platform().topics}
    assert {name: actual.get(name) for name in declared} == declared


async def test_service_role_cannot_touch_another_services_schema(config: StackConfig) -> None:
    curation = await asyncpg.connect(config.service_dsn("curation"))
    consent = await asyncpg.connect(config.service_dsn("consent"))
    try:
        # search_path puts curation's unqualified table in schema curation.
        await curation.execute("CREATE TABLE IF NOT EXISTS stack_isolation_probe (id int)")
        assert await curation.fetchval("SELECT to_regclass('curation.stack_isolation_probe') IS NOT NULL")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await consent.fetch("SELECT * FROM curation.stack_isolation_probe")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await consent.execute("CREATE TABLE curation.intruder (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await consent.execute("CREATE TABLE public.intruder (id int)")
        # ...while its own schema is its to use.
        assert await consent.fetchval("SELECT current_schema()") == "consent"
        await consent.execute("CREATE TABLE IF NOT EXISTS stack_isolation_probe (id int)")
        await consent.execute("DROP TABLE stack_isolation_probe")
    finally:
        await curation.execute("DROP TABLE IF EXISTS stack_isolation_probe")
        await curation.close()
        await consent.close()


async def test_database_stop_and_start_round_trip(config: StackConfig) -> None:
    assert stop_database(config) is True
    try:
        with pytest.raises((OSError, asyncpg.PostgresError, asyncio.TimeoutError)):
            conn = await asyncpg.connect(config.admin_dsn, timeout=3)
            await conn.close()
    finally:
        assert start_database(config) is True
    conn = await asyncpg.connect(config.service_dsn("consent"), timeout=10)
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()
    assert start_database(config) is False  # already running: nothing to do
