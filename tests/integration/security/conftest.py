"""The secured broker (SASL/SCRAM, ACL authorizer, ACLs from deploy/) for the whole session,
beside the shared stack; and the four services as processes for the erasure test, trusting
the test issuer (tests/e2e/signed_in.py)."""

from collections.abc import AsyncIterator

import pytest

from deploy.local import secure_kafka
from deploy.local.secure_kafka import ADMIN, SecureKafka
from harness.kafka import produce
from schemas.platform import load_platform
from tests.e2e.signed_in import signed_in_services  # noqa: F401  (a fixture, reused; `issuer` is the integration tests')
from tests.stack import config_for_tests


@pytest.fixture(scope="session")
async def secure_broker(stack, tmp_path_factory) -> AsyncIterator[SecureKafka]:
    """Every declared topic holds one record (written by the admin), so a read can be proven."""
    broker = secure_kafka.start(tmp_path_factory.mktemp("secure-kafka"), shared=stack.config or config_for_tests())
    try:
        for topic in load_platform().topics:
            await produce(broker.bootstrap, topic.name, [(b"security-test", b"marker")], **broker.options(ADMIN))
        yield broker
    finally:
        secure_kafka.stop(broker)
