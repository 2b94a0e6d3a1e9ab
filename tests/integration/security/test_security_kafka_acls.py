"""On a broker with SASL/SCRAM and the ACL authorizer on, each principal may do exactly
what schemas/platform.toml declares: write the topics it writes, read those it reads, in
consumer groups under its own name. Nobody gets in without valid credentials.

Every principal is tried against every declared topic, both ways (10 × 17 × 2 checks take a
few seconds: a refusal comes back at once)."""

import pytest
from aiokafka.errors import GroupAuthorizationFailedError, KafkaConnectionError

from harness.kafka import produce
from schemas import consent, distribution
from schemas.catalog import CONTRACTS
from schemas.platform import consumer_group_prefix, load_platform
from tests.integration.security.access import can_read, can_write
from tests.personal import ORACLE_REJECTIONS, personal_types

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


async def readable_by(secure_broker, principal: str) -> set[str]:
    """Every topic of the contracts `principal` manages to read a record from."""
    login, group = secure_broker.options(principal), consumer_group_prefix(principal)
    return {topic for topic in CONTRACTS if await can_read(secure_broker.bootstrap, topic, group, **login)}


async def test_a_partner_reads_nothing_about_one_person(secure_broker):
    """Review S2, S10, S20: no consent choice, share, post, notification, click or rejection
    telling who is in the directory reaches a partner, whatever platform.toml claims: what
    is about a person is found in the contracts (tests/personal.py) of each topic the partner
    actually gets a record from."""
    readable = await readable_by(secure_broker, "partner")
    assert distribution.ITEMS_TOPIC in readable  # the control: a partner does read its topics
    assert {topic: personal_types(topic) for topic in readable if personal_types(topic)} == {}


async def test_rejections_telling_who_is_in_the_directory_or_allows_what_never_reach_a_partner(secure_broker):
    """`not_in_directory`, `actor_not_subject`, `scheduled_sharing_not_consented`, keyed by the
    person (review S20): consent's and distribution's rejections, on topics only the platform reads."""
    carrying = {topic for topic, contracts in CONTRACTS.items() if ORACLE_REJECTIONS & set(contracts)}
    assert carrying == {consent.EVENTS_TOPIC, distribution.EVENTS_TOPIC}
    login = secure_broker.options("partner")
    for topic in sorted(carrying):
        assert not await can_read(secure_broker.bootstrap, topic, consumer_group_prefix("partner"), **login), topic


async def test_a_connector_reads_only_the_posts_it_must_publish(secure_broker):
    """Not the shares' texts before they are posted, nor clicks, nor anyone's consent."""
    assert await readable_by(secure_broker, "connector") == {distribution.POSTS_TOPIC}


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
