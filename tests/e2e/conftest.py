"""The four services as separate OS processes against the test stack, on free ports,
trusting the test stack's Keycloak (realm advocacy) for sign-in."""

import pytest

from deploy.local.keycloak import API_AUDIENCE
from tests.e2e.supervisor import Supervisor, every_service


@pytest.fixture
async def running_services(stack, keycloak, tmp_path):
    """{service: port}; each process logs to tmp_path/<service>.log, is stopped with SIGTERM
    and must shut down gracefully. Their APIs take the tokens of `keycloak`'s realm, as the
    platform's services take the local stack's (deploy/local/services.py)."""
    supervisor = Supervisor(stack, tmp_path, env={"OIDC_ISSUER": keycloak.issuer, "OIDC_AUDIENCE": API_AUDIENCE})
    async with every_service(supervisor) as ports:
        yield ports
