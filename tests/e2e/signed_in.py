"""The four services as processes whose HTTP APIs trust a test OpenID Connect issuer, for
tests that act as people: import the fixtures (`serve_issuer`, which provides `issuer`, and
`signed_in_services`) into a conftest.py.

The issuer is harness/issuer.py's, served over real HTTP by the test process: the services
find its keys through OpenID Connect Discovery and verify every token as they would
Keycloak's, while a test signs a token for any advocate id on the spot (Keycloak would need
a user per advocate of the run, and a JVM's share of the two cores).
"""

from collections.abc import Iterator

import pytest

from harness.issuer import TestIssuer
from tests.e2e.supervisor import Supervisor, every_service


@pytest.fixture(scope="session", name="issuer")
def serve_issuer() -> Iterator[TestIssuer]:
    """`issuer`: `issuer.token(sub=advocate_id, realm_roles=(...))` signs a token the services trust."""
    with TestIssuer() as running:
        yield running


@pytest.fixture
async def signed_in_services(stack, issuer, tmp_path):
    """{service: port}, as `running_services` (tests/e2e/conftest.py), with the APIs trusting
    `issuer`. Each process logs to tmp_path/<service>.log and must shut down gracefully."""
    supervisor = Supervisor(stack, tmp_path, identity=issuer.settings())
    async with every_service(supervisor) as ports:
        yield ports
