"""The local stack (deploy/local) against real processes: idempotent up, health, topics, role
isolation, restart; ports: a stack sees only what it started, and refuses ports others hold.

Runs on the test stack (started if needed, left running for other tests), never on the
platform stack `make run` may have left running.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import asyncpg
import pytest

from deploy.local import kafka, keycloak_server, postgres, services, stack
from deploy.local.config import StackConfig, StackError
from deploy.local.postgres import start_database, stop_database
from deploy.local.topics import describe
from schemas.platform import load_platform
from tests.stack import config_for_tests

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def config() -> StackConfig:
    config = config_for_tests()
    stack.up(config)
    return config


def test_second_up_is_a_noop(config: StackConfig, capsys: pytest.CaptureFixture[str]) -> None:
    result = stack.up(config)
    assert (result.postgres_started, result.kafka_started, result.topics_created, result.keycloak_started) == (
        False, False, [], False)
    out = capsys.readouterr().out
    assert "postgres: already running" in out and "kafka: already running" in out
    assert "keycloak: already running" in out


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


def free_ports(n: int) -> int:
    """The first of `n` consecutive ports nothing listens on (below the ephemeral range)."""
    for first in range(21000, 32000, 10):
        if all(not _listening(p) for p in range(first, first + n)):
            return first
    raise RuntimeError("no free ports")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class _AlwaysReady(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"ready": True, "checks": {"stranger": True}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_up_refuses_a_port_another_process_holds_in_one_line_naming_it(tmp_path) -> None:
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", free_ports(2)))
        stranger.listen()
        port = stranger.getsockname()[1]
        config = StackConfig(state_dir=tmp_path / "stack", kafka_port=port, pg_port=free_ports(1) + 3,
                             keycloak_port=free_ports(1) + 5, http_port_base=free_ports(5) + 7)
        with pytest.raises(StackError) as refused:
            stack.up(config)
    message = str(refused.value)
    assert "\n" not in message
    assert f"kafka: port {port} is taken by pid {os.getpid()}" in message and "ADVOCACY_KAFKA_PORT" in message
    assert (keycloak_server.running_pid(config), postgres.running_pid(config)) == (None, None)  # nothing half up


def test_run_refuses_a_service_port_another_process_holds(config: StackConfig, tmp_path) -> None:
    first = free_ports(15)  # beside's five HTTP ports and, 10 above them, their management ports
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", first + 2))  # distribution's HTTP port
        stranger.listen()
        port = stranger.getsockname()[1]
        beside = replace(config, state_dir=tmp_path / "beside", http_port_base=first)
        with pytest.raises(StackError, match=f"distribution http: port {port} is taken by pid {os.getpid()}"):
            services.start(beside)
    assert not any(services.running_pid(beside, name) for name in load_platform().services)


def status_lines(out: str) -> dict[str, tuple[str, str]]:
    """`status`'s table: name -> (verdict, note)."""
    rows = [re.split(r"\s{2,}", line.strip(), maxsplit=2) for line in out.splitlines()[1:] if line.strip()]
    return {name: (verdict, note) for name, verdict, note in rows}


def test_status_and_down_see_only_the_processes_this_stack_started(
        config: StackConfig, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    # Another stack in its own state dir whose services use the test stack's broker and database.
    beside = replace(config, state_dir=tmp_path / "beside", http_port_base=free_ports(5))
    portal = ThreadingHTTPServer(("127.0.0.1", beside.http_ports["portal"]), _AlwaysReady)  # not beside's
    threading.Thread(target=portal.serve_forever, daemon=True).start()
    try:
        assert stack.status(beside) is False
        seen = status_lines(capsys.readouterr().out)
        assert seen["kafka"][0] == seen["postgres"][0] == seen["keycloak"][0] == "UNHEALTHY"
        assert seen["kafka"][1].startswith(
            f"not running (ports {config.kafka_port}, {config.controller_port} taken by pid {kafka.running_pid(config)} ")
        assert f"taken by pid {keycloak_server.running_pid(config)} " in seen["keycloak"][1]
        verdict, note = seen["service portal"]  # told, but not counted as this stack's
        assert verdict == "not ours" and note.startswith(f"port {beside.http_ports['portal']} taken by pid {os.getpid()} (")
        assert not any(f"service {name}" in seen for name in load_platform().services)

        services.start(beside)
        stack.status(beside)
        seen = status_lines(capsys.readouterr().out)
        for name in load_platform().services:
            verdict, note = seen[f"service {name}"]
            assert verdict == "healthy" and note.startswith(f"http://127.0.0.1:{beside.http_ports[name]} ")
            assert note.endswith(f"pid {services.running_pid(beside, name)}")
    finally:
        portal.shutdown()
        portal.server_close()
        pids = {name: services.running_pid(beside, name) for name in load_platform().services}
        stack.down(beside)
    out = capsys.readouterr().out
    for name, pid in pids.items():
        assert f"{name}: stopped (pid {pid}, port {beside.http_ports[name]})" in out
    assert "keycloak: not running" in out and "kafka: not running" in out and "postgres: not running" in out
    assert stack.status(config) is True  # the test stack's own processes were left alone
