"""Kafka ACLs from the declaration: `schemas.platform.grants()` applied to a broker.

aiokafka's admin client has no ACL call, but it ships the CreateAcls request (v1, which
Kafka 4.4 still accepts: 1-3), so one admin connection creates them all in milliseconds;
the Java AclCommand is not among the broker's jars and a JVM per ACL would take minutes.
"""

from __future__ import annotations

from typing import Any

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import for_code
from aiokafka.protocol.admin import CreateAclsRequest

from schemas.platform import Grant

# Kafka's wire codes (org.apache.kafka.common.acl / resource).
_RESOURCE_TYPES = {"topic": 2, "group": 3}
_PATTERNS = {"topic": 3, "group": 4}  # topics by exact name (LITERAL), groups by prefix (PREFIXED)
_OPERATIONS = {"Read": 3, "Write": 4}
_ALLOW = 3


def principal(name: str) -> str:
    """The Kafka principal of a SCRAM user: each service and outside principal logs in as itself."""
    return f"User:{name}"


async def create_acls(bootstrap: str, grants: list[Grant], **security: Any) -> None:
    """Create every grant as an ALLOW ACL from any host (idempotent: Kafka keeps one copy).
    `security`: aiokafka's SASL options of a principal allowed to alter ACLs (a super user)."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap, **security)
    await client.bootstrap()
    try:
        for grant in grants:
            request = CreateAclsRequest(
                _RESOURCE_TYPES[grant.resource_type], grant.resource, _PATTERNS[grant.resource_type],
                principal(grant.principal), "*", _OPERATIONS[grant.operation], _ALLOW)
            response = await client.send(client.get_random_node(), request)
            for code, message in response.creation_responses:
                if code:
                    raise for_code(code)(f"creating ACL {grant}: {message}")
    finally:
        await client.close()
