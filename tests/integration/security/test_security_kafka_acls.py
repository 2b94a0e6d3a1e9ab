"""On a broker with SASL/SCRAM and the ACL authorizer on, each principal may do exactly
what schemas/platform.toml declares: write the topics it writes, read those it reads, in
consumer groups under its own name. Nobody gets in without valid credentials.

Every principal is tried against every declared topic, both ways (5 × 16 × 2 checks take a
few seconds: a refusal comes back at once)."""

import pytest
from aiokafka.errors import GroupAuthorizationFailedError, KafkaConnectionError

from harness.kafka import produce
from schemas.platform import consumer_group_prefix, load_platform
from tests.integration.security.access import can_read, can_write

PLATFORM = load_platform()
PRINCIPALS = PLATFORM.kafka_principals


def declared(principal: str, role: str) -> set[str]:
    return {t.name for t in PLATFORM.topics if principal in getattr(t, role)}


@pytest.mark.parametrize("principal", PRINCIPALS)
async def test_every_principal_has_exactly_the_declared_access_to_every_topic(secure_broker, principal):
    """A service cannot forge another's events or send itself commands, nor read what it does
    not consume (its own dead letters and state included: writing a topic is not reading it)."""
    login, group = secure_broker.options(principal), consumer_group_prefix(principal)
    writes = {t.name for t in PLATFORM.topics if await can_write(secure_broker.bootstrap, t.name, **login)}
    reads = {t.name for t in PLATFORM.topics if await can_read(secure_broker.bootstrap, t.name, group, **login)}
    assert writes == declared(principal, "writers")
    assert reads == declared(principal, "readers")


async def test_a_service_cannot_use_another_services_consumer_group(secure_broker):
    """Joining metrics' group would let consent take over metrics' partitions and offsets."""
    topic = sorted(declared("consent", "readers") & declared("metrics", "readers"))[0]
    assert await can_read(secure_broker.bootstrap, topic, "consent.", **secure_broker.options("consent"))
    with pytest.raises(GroupAuthorizationFailedError):
        await can_read(secure_broker.bootstrap, topic, "metrics.", **secure_broker.options("consent"))


async def test_nobody_gets_in_without_valid_credentials(secure_broker):
    topic = sorted(declared("hr", "writers"))[0]
    assert await can_write(secure_broker.bootstrap, topic, **secure_broker.options("hr"))  # the control
    refused = [{}, secure_broker.options("hr", password="not-the-password"),
               secure_broker.options("nobody", password="any")]
    for credentials in refused:  # anonymous (no SASL), a wrong password, an unknown user
        with pytest.raises(KafkaConnectionError):  # the broker closes the connection during the handshake
            await produce(secure_broker.bootstrap, topic, [(b"k", b"v")], **credentials)
    with pytest.raises(KafkaConnectionError):  # nor anonymously through the controller's listener
        await produce(f"127.0.0.1:{secure_broker.config.controller_port}", topic, [(b"k", b"v")])
