"""Where the tests find Kafka and Postgres, in this order:

1. `KAFKA_BOOTSTRAP_SERVERS` and `ADVOCACY_ADMIN_DATABASE_URL` from the environment;
2. testcontainers, when a Docker engine answers;
3. the project's local stack (`python -m deploy.local up`), started if it is not running.

Only the local stack can stop and start its database and its broker, which the outage
and crash tests need.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Stack:
    kafka_bootstrap: str
    admin_dsn: str
    stop_database: Callable[[], object] | None = None
    start_database: Callable[[], object] | None = None
    stop_broker: Callable[[], object] | None = None
    start_broker: Callable[[], object] | None = None  # returns once the broker serves again


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@contextmanager
def containers() -> Iterator[Stack]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    from types import SimpleNamespace

    from deploy.local.config import run_sync
    from deploy.local.provision import provision
    from schemas.platform import load_platform

    with PostgresContainer("postgres:15", dbname="advocacy") as pg, KafkaContainer().with_kraft() as kafka:
        admin_dsn = pg.get_connection_url(driver=None)
        run_sync(provision(SimpleNamespace(admin_dsn=admin_dsn, database="advocacy"), list(load_platform().services)))
        yield Stack(kafka.get_bootstrap_server(), admin_dsn)


@contextmanager
def local() -> Iterator[Stack]:
    from deploy.local import kafka, postgres, stack
    from deploy.local.config import StackConfig

    config = StackConfig.from_env()
    stack.up(config)
    yield Stack(
        config.kafka_bootstrap, config.admin_dsn,
        stop_database=lambda: postgres.stop_database(config),
        start_database=lambda: postgres.start_database(config),
        stop_broker=lambda: kafka.stop(config),
        start_broker=lambda: kafka.start(config),
    )


@contextmanager
def find_stack() -> Iterator[Stack]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("ADVOCACY_ADMIN_DATABASE_URL"):
        yield Stack(os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["ADVOCACY_ADMIN_DATABASE_URL"])
    elif docker_answers():
        with containers() as found:
            yield found
    else:
        with local() as found:
            yield found
