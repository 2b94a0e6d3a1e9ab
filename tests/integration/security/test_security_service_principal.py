"""A real service on the secured broker, configured only by the environment variables an
operator sets (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_CAFILE): consent consumes in
its own consumer groups and publishes through its outbox relay, all as its own principal, on
the SCRAM listener and on the TLS one as Kubernetes runs it (review S13); a client that does
not trust the broker's CA does not get through."""

import json
import ssl

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError

from deploy.local import tls
from deploy.local.secure_kafka import ADMIN
from harness.kafka import eventually, produce, read_topic
from schemas import consent as c
from schemas import directory as d
from services.consent.app import build_service
from services.consent.config import ConsentSettings, ConsentTopics
from tests.integration.consent.rig import erase, new_advocate, publish


@pytest.mark.parametrize("tls", [False, True], ids=["scram", "tls-and-scram"])
async def test_consent_runs_on_the_secured_broker_as_its_own_principal(secure_broker, scratch_schema, monkeypatch, tls):
    for name, value in secure_broker.env("consent", tls=tls).items():
        monkeypatch.setenv(name, value)
    _, dsn = await scratch_schema()  # its own tables; the shared stack's consent schema stays untouched
    settings = ConsentSettings(database_url=dsn, http_port=1, outbox_poll_seconds=0.2)
    assert (settings.kafka_security_protocol, settings.kafka_sasl_username) == (
        "SASL_SSL" if tls else "SASL_PLAINTEXT", "consent")
    advocate = new_advocate()

    async def send(topic: str, *events, principal: str) -> None:
        login = secure_broker.options(principal)
        await produce(secure_broker.bootstrap, topic, [(e.subject.encode(), e.to_bytes()) for e in events], **login)

    async def keys_on(topic: str) -> list[tuple[str, str | None]]:
        """(key, event type or None for a tombstone) of what is on `topic` about the advocate, read as the
        broker's administrator: no outside principal may read consent's topics (ADR 0018)."""
        records = await read_topic(secure_broker.bootstrap, topic, at_least=0, timeout=0.5, settle=0.3,
                                   **secure_broker.options(ADMIN))
        return [(r.key.decode(), r.value and json.loads(r.value)["type"]) for r in records
                if r.key.decode().startswith(advocate)]

    conn = await asyncpg.connect(dsn)
    try:
        async with build_service(settings, ConsentTopics()).running():
            await send(c.COMMANDS_TOPIC, *[publish(p, 1) for p in c.Purpose], principal="privacy-office")
            await send(d.TOPIC, d.PersonJoined(source="/hr", subject=advocate,
                                               data=d.Profile(advocate_id=advocate, role=d.Role.EMPLOYEE)), principal="hr")

            async def ready() -> bool:  # two topics, two consumer groups: no order between them
                return (await conn.fetchval("SELECT count(*) FROM people WHERE advocate_id = $1", advocate) == 1
                        and await conn.fetchval("SELECT count(*) FROM purposes WHERE current_version = 1")
                        == len(c.Purpose))

            await eventually(ready, what="consent to read the directory and the policy commands")
            # A person's choices come only through the HTTP API now; the privacy office's
            # erasure still comes on Kafka and writes to both topics consent publishes on.
            await send(c.COMMANDS_TOPIC, erase(advocate, actor="privacy-office"), principal="privacy-office")

            tombstones = sorted((f"{advocate}:{p.value}", None) for p in c.Purpose)

            async def published() -> bool:
                return ((advocate, "advocacy.consent.advocate.erased.v1") in await keys_on(c.EVENTS_TOPIC)
                        and sorted(await keys_on(c.STATE_TOPIC)) == tombstones)

            await eventually(published, what="advocate.erased and the state's tombstones, published by consent's relay")
    finally:
        await conn.close()


async def test_over_tls_a_client_that_does_not_trust_the_brokers_ca_is_not_let_through(secure_broker, tmp_path):
    login = {k: v for k, v in secure_broker.options("consent").items() if k != "security_protocol"}

    def admin(context: ssl.SSLContext) -> AIOKafkaAdminClient:
        return AIOKafkaAdminClient(bootstrap_servers=secure_broker.tls_bootstrap, security_protocol="SASL_SSL",
                                   ssl_context=context, request_timeout_ms=5000, **login)

    another_ca = tls.make(tmp_path / "another").ca  # what a man in the middle would present
    for untrusting in (ssl.create_default_context(), ssl.create_default_context(cafile=str(another_ca))):
        client = admin(untrusting)
        with pytest.raises(KafkaConnectionError):
            await client.start()
        await client.close()
    client = admin(ssl.create_default_context(cafile=str(secure_broker.ca_file)))
    await client.start()
    try:
        assert c.EVENTS_TOPIC in await client.list_topics()
    finally:
        await client.close()
