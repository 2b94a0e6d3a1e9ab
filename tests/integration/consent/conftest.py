"""The consent service on a scratch schema and fresh topics (real Kafka and Postgres)."""

from collections.abc import AsyncIterator

import pytest

from services.consent.config import ConsentSettings, ConsentTopics
from tests.integration.consent.rig import ConsentRig, TopicLog


@pytest.fixture
async def consent_rig(stack, scratch_schema, make_topics) -> AsyncIterator[ConsentRig]:
    """Not running yet: `rig.build()` makes a service (several may share the schema)."""
    schema, dsn = await scratch_schema()
    commands, events, state, directory = await make_topics("consent-commands", "consent-events",
                                                           "consent-state", "directory")
    settings = ConsentSettings(
        service=schema, database_url=dsn, kafka_bootstrap_servers=stack.kafka_bootstrap, http_port=1,
        outbox_poll_seconds=0.2, retry_deadline_seconds=30, consent_expiry_interval_seconds=0.2,
    )
    await make_topics(settings.dead_letter_topic, partitions=1, exact=True)
    rig = ConsentRig(settings, ConsentTopics(commands, events, state, directory), stack.kafka_bootstrap,
                     stack.admin_dsn, TopicLog(stack.kafka_bootstrap, events), TopicLog(stack.kafka_bootstrap, state))
    await rig.events.consumer.start()
    await rig.state.consumer.start()
    try:
        yield rig
    finally:
        await rig.events.consumer.stop()
        await rig.state.consumer.stop()


@pytest.fixture
async def consent(consent_rig: ConsentRig) -> AsyncIterator[ConsentRig]:
    """Running, with version 1 of every purpose's policy published."""
    async with consent_rig.build().running():
        await consent_rig.publish_policies()
        yield consent_rig
