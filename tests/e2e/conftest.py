"""The four services as separate OS processes against the test stack, on free ports."""

import pytest

from schemas.catalog import SERVICES
from tests.e2e.supervisor import Supervisor


@pytest.fixture
async def running_services(stack, tmp_path):
    """{service: port}; each process logs to tmp_path/<service>.log, is stopped with SIGTERM
    and must shut down gracefully."""
    supervisor = Supervisor(stack, tmp_path)
    for name in SERVICES:
        supervisor.add(name)
    try:
        for name in SERVICES:
            supervisor.start(name)
        for name in SERVICES:
            await supervisor.until_ready(name, timeout=60)
        yield supervisor.ports()
    finally:
        supervisor.stop_all()
    for name in SERVICES:  # uvicorn re-raises SIGTERM after its shutdown, so the exit code says nothing
        log = supervisor.log_of(name)
        assert "FastStream app shut down gracefully." in log and "Application shutdown complete." in log, name
