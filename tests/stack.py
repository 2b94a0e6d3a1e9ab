"""Where the tests find Kafka, Postgres and Keycloak, in this order:

1. `KAFKA_BOOTSTRAP_SERVERS` and `ADVOCACY_ADMIN_DATABASE_URL` from the environment;
2. testcontainers, when a Docker engine answers;
3. the local *test* stack (`python -m deploy.local --tests up`), started if it is not
   running: its own state dir (`.stack-test/`) and its own ports (each of the platform
   stack's + 50), so the tests never join the consumer groups, schemas or processes of a
   platform that `make run` left running.

Keycloak: `ADVOCACY_KEYCLOAK_URL` if set, else the test stack's (in cases 1 and 2 only its
Keycloak is started). Only the local stack can stop and start its database and its
broker, which the outage and crash tests need.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from deploy.local.config import StackConfig


@dataclass
class Stack:
    kafka_bootstrap: str
    admin_dsn: str
    stop_database: Callable[[], object] | None = None
    start_database: Callable[[], object] | None = None
    stop_broker: Callable[[], object] | None = None
    start_broker: Callable[[], object] | None = None  # returns once the broker serves again
    keycloak_url: str | None = None  # None: start the test stack's Keycloak when a test needs it
    config: StackConfig | None = None  # the local test stack's, when that is the stack


def config_for_tests() -> StackConfig:
    """The test stack of this environment's platform stack (deploy/local/config.py: for_tests)."""
    return StackConfig.from_env().for_tests()


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@contextmanager
def containers() -> Iterator[Stack]:
    from types import SimpleNamespace

    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    from deploy.local.config import run_sync
    from deploy.local.provision import provision
    from schemas.platform import load_platform

    with PostgresContainer("postgres:15", dbname="advocacy") as pg, KafkaContainer().with_kraft() as kafka:
        admin_dsn = pg.get_connection_url(driver=None)
        run_sync(provision(SimpleNamespace(admin_dsn=admin_dsn, database="advocacy"), list(load_platform().services)))
        yield Stack(kafka.get_bootstrap_server(), admin_dsn, keycloak_url=os.environ.get("ADVOCACY_KEYCLOAK_URL"))


@contextmanager
def local() -> Iterator[Stack]:
    from deploy.local import kafka, postgres, stack

    config = config_for_tests()
    stack.up(config)
    yield Stack(
        config.kafka_bootstrap, config.admin_dsn,
        stop_database=lambda: postgres.stop_database(config),
        start_database=lambda: postgres.start_database(config),
        stop_broker=lambda: kafka.stop(config),
        start_broker=lambda: kafka.start(config),
        keycloak_url=os.environ.get("ADVOCACY_KEYCLOAK_URL") or config.keycloak_url,
        config=config,
    )


@contextmanager
def find_stack() -> Iterator[Stack]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("ADVOCACY_ADMIN_DATABASE_URL"):
        yield Stack(os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["ADVOCACY_ADMIN_DATABASE_URL"],
                    keycloak_url=os.environ.get("ADVOCACY_KEYCLOAK_URL"))
    elif docker_answers():
        with containers() as found:
            yield found
    else:
        with local() as found:
            yield found
