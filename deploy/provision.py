"""Provision a deployed platform: `python -m deploy.provision roles|topics|acls|migrate|all`.

The compose stack's one-shot job runs `all`; the Kubernetes `database-roles` Job runs
`roles` (there Strimzi creates topics and ACLs). Everything comes from the declaration
and reuses the local stack's code, so the three ways of running the platform cannot
provision differently. Idempotent: run it again after adding a service or a topic.

Environment:
  ADMIN_DATABASE_URL            a role that may create roles, on the platform's database
  <SERVICE>_DATABASE_URL        each service's own login (user = service name, its password)
  KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM,
  KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD   a Kafka super user (creates topics and ACLs)
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

import asyncpg

from deploy.local.acls import create_acls
from deploy.local.provision import provision_roles
from deploy.local.topics import ensure_topics
from schemas.platform import Platform, grants, load_platform
from services.runtime.kafka_client import security_options
from services.runtime.migrate import migrate_service
from services.runtime.settings import ServiceSettings


def service_dsns(platform: Platform, env: Mapping[str, str]) -> dict[str, str]:
    """Each service's DATABASE_URL, whose user must be the service: its role is named so."""
    dsns = {}
    for service in platform.services:
        dsn = env[f"{service.upper()}_DATABASE_URL"]
        if urlsplit(dsn).username != service:
            raise SystemExit(f"{service.upper()}_DATABASE_URL must log in as {service!r}")
        dsns[service] = dsn
    return dsns


async def roles(platform: Platform, env: Mapping[str, str]) -> None:
    admin_dsn = env["ADMIN_DATABASE_URL"]
    passwords = {name: urlsplit(dsn).password for name, dsn in service_dsns(platform, env).items()}
    conn = await asyncpg.connect(admin_dsn)
    try:
        await provision_roles(conn, urlsplit(admin_dsn).path.lstrip("/"), passwords)
    finally:
        await conn.close()


def _kafka(env: Mapping[str, str]) -> tuple[str, dict]:
    # The same variables and mapping as the services' (services/runtime/kafka_client.py).
    settings = ServiceSettings(service="provision", **{k.lower(): v for k, v in env.items() if k.startswith("KAFKA_")})
    return settings.kafka_bootstrap_servers, security_options(settings)


async def topics(platform: Platform, env: Mapping[str, str]) -> None:
    bootstrap, security = _kafka(env)
    created = await ensure_topics(bootstrap, platform.topics, **security)
    print(f"topics: {len(created)} created, {len(platform.topics) - len(created)} already there")


async def acls(platform: Platform, env: Mapping[str, str]) -> None:
    bootstrap, security = _kafka(env)
    await create_acls(bootstrap, grants(platform), **security)
    print(f"acls: {len(grants(platform))} in place")


async def migrate(platform: Platform, env: Mapping[str, str]) -> None:
    for service, dsn in service_dsns(platform, env).items():
        applied = await migrate_service(ServiceSettings(service=service, database_url=dsn))
        print(f"migrate {service}: {', '.join(applied) or 'up to date'}")


STEPS = {"roles": roles, "topics": topics, "acls": acls, "migrate": migrate}  # `all`: in this order


async def run(steps: list[str], env: Mapping[str, str], platform: Platform | None = None) -> None:
    platform = platform or load_platform()
    for step in steps:
        await STEPS[step](platform, env)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.provision", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("steps", nargs="+", choices=[*STEPS, "all"])
    args = parser.parse_args(argv)
    steps = list(STEPS) if "all" in args.steps else args.steps
    asyncio.run(run(steps, os.environ))


if __name__ == "__main__":
    main()
