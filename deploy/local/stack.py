"""The whole local stack: up, down and status, composed from postgres, kafka and topics."""

from __future__ import annotations

import contextlib
import fcntl
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field

from schemas.platform import load_platform

from . import kafka, postgres, provision, services
from .config import HOST, StackConfig, StackError, pg_bin_dir, require, run_sync
from .topics import describe, ensure_topics


@dataclass
class UpResult:
    postgres_started: bool
    kafka_started: bool
    topics_created: list[str] = field(default_factory=list)


def check_prerequisites(config: StackConfig) -> None:
    """Fail before starting anything, naming what to install."""
    pg_bin_dir()
    if postgres.AS_ROOT:
        postgres.runuser()
    require("java", "install OpenJDK 17 (apt-get install openjdk-17-jdk-headless)")
    if not any((config.kafka_dir / "libs").glob("*.jar")):
        require("mvn", "install Maven to fetch the Kafka jars (apt-get install maven)")


@contextlib.contextmanager
def _exclusive(config: StackConfig) -> Iterator[None]:
    """Serialise up/down: `make up` racing a test fixture must not start two brokers."""
    config.state_dir.mkdir(parents=True, exist_ok=True)
    with open(config.state_dir / "stack.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def up(config: StackConfig) -> UpResult:
    """Idempotent: reuses running processes and existing data. Order: postgres, kafka, topics."""
    platform = load_platform()
    check_prerequisites(config)
    with _exclusive(config):
        pg_started = postgres.start_database(config)
        run_sync(provision.provision(config, list(platform.services)))
        print(f"postgres: {'started' if pg_started else 'already running'} on {HOST}:{config.pg_port}, "
              f"database {config.database}, roles/schemas {', '.join(platform.services)}", flush=True)

        kafka_started = kafka.start(config)
        print(f"kafka: {'started' if kafka_started else 'already running'} on {config.kafka_bootstrap}", flush=True)

        created = run_sync(ensure_topics(config.kafka_bootstrap, platform.topics))
        print(f"topics: created {len(created)}, existing {len(platform.topics) - len(created)}", flush=True)
    return UpResult(pg_started, kafka_started, created)


def run(config: StackConfig) -> None:
    """The platform: the stack, then each service as its own process; they keep running."""
    up(config)
    started = services.start(config)
    ports = load_platform().services
    for name, fresh in started.items():
        print(f"{name}: {'started' if fresh else 'already running'}, ready on http://{HOST}:{ports[name]} "
              f"(/ready, /metrics; log {config.state_dir / 'logs' / (name + '.log')})", flush=True)
    print("the platform is running; stop it with `make down`", flush=True)


def down(config: StackConfig, purge: bool = False) -> None:
    """Stop the services, Kafka, then Postgres. purge also deletes their data (the downloaded jars stay)."""
    for name in services.stop(config):
        print(f"{name}: stopped", flush=True)
    with _exclusive(config):
        print(f"kafka: {'stopped' if kafka.stop(config) else 'not running'}", flush=True)
        print(f"postgres: {'stopped' if postgres.stop_database(config) else 'not running'}", flush=True)
        if purge:
            marker = config.state_dir / "postgres.location"
            if marker.exists():  # the cluster may live under /var/tmp: remove it there
                shutil.rmtree(postgres.cluster_dir(config), ignore_errors=True)
                marker.unlink()
            shutil.rmtree(config.kafka_dir / "data", ignore_errors=True)
            (config.kafka_dir / "cluster-id").unlink(missing_ok=True)
            print("purged: kafka and postgres data", flush=True)


def status(config: StackConfig) -> bool:
    """Print broker, database and each declared topic as healthy or not; True if all are."""
    platform = load_platform()
    checks: list[tuple[str, bool, str]] = []

    broker_ok, pid = kafka.healthy(config), kafka.running_pid(config)
    checks.append(("kafka", broker_ok, config.kafka_bootstrap + (f", pid {pid}" if pid else "")))
    db_ok = run_sync(provision.healthy(config, list(platform.services)))
    checks.append(("postgres", db_ok, f"{HOST}:{config.pg_port}, database {config.database}"))

    actual = run_sync(describe(config.kafka_bootstrap)) if broker_ok else {}
    for topic in platform.topics:
        have = actual.get(topic.name)
        if not broker_ok:
            checks.append((f"topic {topic.name}", False, "broker down"))
        elif have is None:
            checks.append((f"topic {topic.name}", False, "missing (run: python -m deploy.local topics)"))
        else:
            note = f"{have} partitions" + ("" if have == topic.partitions else f", declared {topic.partitions}")
            checks.append((f"topic {topic.name}", have == topic.partitions, note))

    for name, port in platform.services.items():
        answer = services.readiness(name, port)
        if answer is not None:  # services are optional in status: only a running, unready one is unhealthy
            checks.append((f"service {name}", bool(answer.get("ready")), f"http://{HOST}:{port} {answer['checks']}"))

    width = max(len(name) for name, _, _ in checks)
    for name, ok, note in checks:
        print(f"{name:<{width}}  {'healthy' if ok else 'UNHEALTHY':<9}  {note}")
    return all(ok for _, ok, _ in checks)


def topics(config: StackConfig) -> list[str]:
    """Create missing declared topics on the running broker; returns the created names."""
    platform = load_platform()
    if not kafka.healthy(config):
        raise StackError(f"kafka is not reachable on {config.kafka_bootstrap}: run `python -m deploy.local up`")
    created = set(run_sync(ensure_topics(config.kafka_bootstrap, platform.topics)))
    for topic in platform.topics:
        print(f"{'created' if topic.name in created else 'exists '}  {topic.name}  "
              f"({topic.partitions} partitions, {topic.cleanup_policy}, {topic.retention_days} days)")
    return sorted(created)
