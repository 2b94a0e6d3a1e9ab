"""Compacted topics bound how long an erased person's record stays readable (ADR 0019): each
declared compacted topic, created on the real broker as the local stack creates it, carries
the maximum compaction lag, segment roll and tombstone retention of the declaration."""

import uuid
from dataclasses import replace

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from deploy.local.topics import ensure_topics
from schemas.platform import load_platform

DAY_MS = str(24 * 60 * 60 * 1000)


async def test_compacted_topics_are_created_with_a_bounded_compaction_lag(stack):
    compacted = [t for t in load_platform().topics if t.compacted]
    assert {t.name for t in compacted} >= {"advocacy.consent.state.v1", "advocacy.directory.v1"}
    fresh = [replace(t, name=f"test.compaction.{uuid.uuid4().hex[:8]}", partitions=1) for t in compacted]
    assert sorted(await ensure_topics(stack.kafka_bootstrap, fresh)) == sorted(t.name for t in fresh)

    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t.name) for t in fresh])
    finally:
        await admin.close()
    configs = {resource[3]: {entry[0]: entry[1] for entry in resource[4]}
               for response in described for resource in response.resources}
    for topic in fresh:
        got = configs[topic.name]
        assert got["cleanup.policy"] == "compact"
        assert (got["max.compaction.lag.ms"], got["segment.ms"], got["delete.retention.ms"]) == (DAY_MS,) * 3
