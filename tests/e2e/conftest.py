"""The four services as separate OS processes against the test stack, on free ports,
trusting the test stack's Keycloak (realm advocacy) for sign-in."""

import pytest

from deploy.local.keycloak import API_AUDIENCE
from schemas.catalog import SERVICES
from tests.e2e.supervisor import Supervisor


@pytest.fixture
async def running_services(stack, keycloak, tmp_path):
    """{service: port}; each process logs to tmp_path/<service>.log, is stopped with SIGTERM
    and must shut down gracefully. Their APIs take the tokens of `keycloak`'s realm, as the
    platform's services take the local stack's (deploy/local/services.py)."""
    supervisor = Supervisor(stack, tmp_path, env={"OIDC_ISSUER": keycloak.issuer, "OIDC_AUDIENCE": API_AUDIENCE})
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
