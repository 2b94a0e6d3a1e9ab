"""The consent service on the shared rig (real Kafka and Postgres), its HTTP API trusting
the session's test issuer."""

from collections.abc import AsyncIterator

import pytest

from services.consent.app import build_service
from services.consent.config import ConsentSettings, ConsentTopics
from tests.integration.consent.rig import ConsentRig
from tests.integration.rig import make_rig


@pytest.fixture
async def consent_rig(stack, scratch_schema, make_topics, issuer) -> AsyncIterator[ConsentRig]:
    """Not running yet: `consent_rig.build()` makes a service (several may share the schema)."""
    async with make_rig(ConsentRig, stack, scratch_schema, make_topics, build_service, ConsentSettings,
                        ConsentTopics, identity=issuer.settings(), consent_expiry_interval_seconds=0.2) as rig:
        rig.issuer = issuer
        await rig.events.consumer.start()
        await rig.state.consumer.start()
        try:
            yield rig
        finally:
            await rig.events.consumer.stop()
            await rig.state.consumer.stop()


@pytest.fixture
async def consent(consent_rig: ConsentRig) -> AsyncIterator[ConsentRig]:
    """Serving its HTTP API, with version 1 of every purpose's policy published."""
    async with consent_rig.serving():
        await consent_rig.publish_policies()
        yield consent_rig
