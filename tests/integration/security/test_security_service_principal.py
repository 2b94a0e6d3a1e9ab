"""A real service on the secured broker, configured only by the environment variables an
operator sets (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*): consent consumes in its own consumer
groups and publishes through its outbox relay, all as its own principal."""

import json

import asyncpg

from harness.kafka import eventually, produce, read_topic
from schemas import consent as c
from schemas import directory as d
from services.consent.app import build_service
from services.consent.config import ConsentSettings, ConsentTopics
from tests.integration.consent.rig import erase, new_advocate, publish


async def test_consent_runs_on_the_secured_broker_as_its_own_principal(secure_broker, scratch_schema, monkeypatch):
    for name, value in secure_broker.env("consent").items():
        monkeypatch.setenv(name, value)
    _, dsn = await scratch_schema()  # its own tables; the shared stack's consent schema stays untouched
    settings = ConsentSettings(database_url=dsn, http_port=1, outbox_poll_seconds=0.2)
    assert (settings.kafka_security_protocol, settings.kafka_sasl_username) == ("SASL_PLAINTEXT", "consent")
    advocate = new_advocate()

    async def send(topic: str, *events, principal: str) -> None:
        login = secure_broker.options(principal)
        await produce(secure_broker.bootstrap, topic, [(e.subject.encode(), e.to_bytes()) for e in events], **login)

    async def keys_on(topic: str) -> list[tuple[str, str | None]]:
        """(key, event type or None for a tombstone) of what is on `topic` about the advocate, as a partner reads it."""
        records = await read_topic(secure_broker.bootstrap, topic, at_least=0, timeout=0.5, settle=0.3,
                                   **secure_broker.options("partner"))
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
