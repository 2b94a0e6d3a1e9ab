"""The four services as separate OS processes against the test stack, on free ports."""

import asyncio
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from schemas.catalog import SERVICES
from tests.conftest import dsn_for
from tests.integration.kafka_tools import eventually
from tests.integration.rig import free_port


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
async def running_services(stack, tmp_path):
    """{service: port}; each process logs to tmp_path/<service>.log, is stopped with SIGTERM
    and must shut down gracefully."""
    ports = {name: free_port() for name in SERVICES}
    logs = {name: open(tmp_path / f"{name}.log", "wb") for name in SERVICES}
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap, "HTTP_PORT": str(port),
                 "DATABASE_URL": dsn_for(stack.admin_dsn, name, name),
                 "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['distribution']}", "SCHEDULE_SECONDS": "0.5"},
            stdout=logs[name], stderr=subprocess.STDOUT,
        )
        for name, port in ports.items()
    }
    try:
        for name, port in ports.items():
            await eventually(lambda: asyncio.to_thread(ready, port), timeout=60, what=f"{name} ready")
        yield ports
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for name, process in processes.items():
            process.wait(timeout=30)
            logs[name].close()
    for name in SERVICES:  # uvicorn re-raises SIGTERM after its shutdown, so the exit code says nothing
        log = (tmp_path / f"{name}.log").read_text()
        assert "FastStream app shut down gracefully." in log and "Application shutdown complete." in log, name
