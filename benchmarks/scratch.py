"""What every benchmark sets up and removes again: the running stack, a login role with a
schema of its own, and fresh topics (plus that role's dead-letter topic)."""

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from typing import Any

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from deploy.local import stack
from deploy.local.config import StackConfig
from deploy.local.provision import drop_role, provision_role


@dataclass(frozen=True)
class Scratch:
    config: StackConfig
    name: str  # role, schema and service name
    topics: Any  # an instance of the service's Topics dataclass, every name fresh

    def settings(self, settings_type: Callable[..., Any], **extra: Any) -> Any:
        return settings_type(service=self.name, database_url=self.config.service_dsn(self.name),
                             kafka_bootstrap_servers=self.config.kafka_bootstrap, http_port=1, **extra)


@asynccontextmanager
async def scratch(topics_type: type, partitions: int = 6) -> AsyncIterator[Scratch]:
    config = StackConfig.from_env()
    stack.up(config)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    topics = topics_type(*[f"bench.{f.name}.{name}" for f in fields(topics_type)])
    made = [*vars(topics).values(), f"advocacy.{name}.deadletter.v1"]
    admin = await asyncpg.connect(config.admin_dsn)
    kafka = AIOKafkaAdminClient(bootstrap_servers=config.kafka_bootstrap)
    await kafka.start()
    try:
        await provision_role(admin, config.database, name)
        await kafka.create_topics([NewTopic(t, partitions, 1) for t in made])
        yield Scratch(config, name, topics)
    finally:
        await kafka.delete_topics(made)
        await kafka.close()
        await drop_role(admin, name)
        await admin.close()
