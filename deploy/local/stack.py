"""The whole local stack: up, run, down and status, composed from postgres, kafka, keycloak,
topics and the services."""

from __future__ import annotations

import contextlib
import fcntl
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field

from schemas.platform import load_platform

from . import kafka, keycloak_server, postgres, provision, services
from .config import HOST, StackConfig, StackError, pg_bin_dir, require, require_free, run_sync
from .ports import holder, port_open
from .topics import describe, ensure_topics


@dataclass
class UpResult:
    postgres_started: bool
    kafka_started: bool
    topics_created: list[str] = field(default_factory=list)
    keycloak_started: bool = False


def check_prerequisites(config: StackConfig) -> None:
    """Fail before starting anything, naming what to install."""
    pg_bin_dir()
    if postgres.AS_ROOT:
        postgres.runuser()
    require("java", "install OpenJDK 17 (apt-get install openjdk-17-jdk-headless)")
    if not any((config.kafka_dir / "libs").glob("*.jar")) or not keycloak_server.server_dir(config).is_dir():
        require("mvn", "install Maven to fetch the Kafka jars and Keycloak (apt-get install maven)")


@contextlib.contextmanager
def _exclusive(config: StackConfig) -> Iterator[None]:
    """Serialise up/down: `make up` racing a test fixture must not start two brokers."""
    config.state_dir.mkdir(parents=True, exist_ok=True)
    with open(config.state_dir / "stack.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def up(config: StackConfig) -> UpResult:
    """Idempotent: reuses this stack's running processes and data. Keycloak's JVM is launched
    first and awaited last (it takes longest); meanwhile postgres, kafka and the topics."""
    platform = load_platform()
    check_prerequisites(config)
    with _exclusive(config):
        absent = [name for name, pid in (("keycloak", keycloak_server.running_pid(config)),
                                         ("postgres", postgres.running_pid(config)),
                                         ("kafka", kafka.running_pid(config))) if not pid]
        for component in absent:  # every port checked before anything starts: one clear line, nothing half up
            require_free(config, component)

        keycloak_started = "keycloak" in absent
        if keycloak_started:
            keycloak_server.launch(config)

        pg_started = postgres.start_database(config)
        run_sync(provision.provision(config, list(platform.services)))
        print(f"postgres: {'started' if pg_started else 'already running'} on {HOST}:{config.pg_port}, "
              f"database {config.database}, roles/schemas {', '.join(platform.services)}", flush=True)

        kafka_started = kafka.start(config)
        print(f"kafka: {'started' if kafka_started else 'already running'} on {config.kafka_bootstrap}", flush=True)

        created = run_sync(ensure_topics(config.kafka_bootstrap, platform.topics))
        print(f"topics: created {len(created)}, existing {len(platform.topics) - len(created)}", flush=True)

        keycloak_server.wait_ready(config)
        print(f"keycloak: {'started' if keycloak_started else 'already running'} on {config.keycloak_url}, "
              f"realm {keycloak_server.REALM} (admin console {config.keycloak_url}/admin/, local-only admin/admin)",
              flush=True)
    return UpResult(pg_started, kafka_started, created, keycloak_started)


def run(config: StackConfig) -> None:
    """The platform: the stack, then each service as its own process on this stack's HTTP
    ports, then the portal; they keep running."""
    up(config)
    started = services.start(config)
    services.start_portal(config)
    for name, fresh in started.items():
        log = config.state_dir / "logs" / f"{name}.log"
        print(f"{name}: {'started' if fresh else 'already running'}, ready on http://{HOST}:{config.http_ports[name]} "
              f"(/ready, /metrics on {config.management_ports[name]}; log {log})", flush=True)
    print(f"portal: ready on {services.portal_url(config)} (sign in as a demo user: `make run` lists them)", flush=True)
    print("the platform is running; stop it with `make down`", flush=True)


def down(config: StackConfig, purge: bool = False) -> None:
    """Stop this stack's services, Keycloak, Kafka, then Postgres, saying what was stopped.
    purge also deletes their data (the downloaded jars and distribution stay)."""
    print(f"down: the {config.name} stack in {config.state_dir}", flush=True)
    stopped = services.stop(config)
    for name, service_pid in stopped.items():
        print(f"{name}: stopped (pid {service_pid}, port {config.http_ports[name]})", flush=True)
    if not stopped:
        print("services: none running", flush=True)
    with _exclusive(config):
        for name, stop, port in (("keycloak", keycloak_server.stop, config.keycloak_port),
                                 ("kafka", kafka.stop, config.kafka_port)):
            pid = stop(config)
            print(f"{name}: stopped (pid {pid}, port {port})" if pid else f"{name}: not running", flush=True)
        pid = postgres.running_pid(config)
        stopped_pg = postgres.stop_database(config)
        print(f"postgres: stopped (pid {pid}, port {config.pg_port})" if stopped_pg else "postgres: not running",
              flush=True)
        if purge:
            marker = config.state_dir / "postgres.location"
            if marker.exists():  # the cluster may live under /var/tmp: remove it there
                shutil.rmtree(postgres.cluster_dir(config), ignore_errors=True)
                marker.unlink()
            shutil.rmtree(config.kafka_dir / "data", ignore_errors=True)
            (config.kafka_dir / "cluster-id").unlink(missing_ok=True)
            keycloak_server.purge(config)
            print("purged: kafka, postgres and keycloak data", flush=True)


def _not_running(config: StackConfig, component: str) -> str:
    """Why a component counts as down, naming any stranger on its ports."""
    by_holder: dict[str, list[str]] = {}
    for p in config.ports_of(component):
        if port_open(p.number):
            by_holder.setdefault(holder(p.number), []).append(str(p.number))
    taken = [f"port{'s' if len(ports) > 1 else ''} {', '.join(ports)} taken by {who}"
             for who, ports in by_holder.items()]
    return "not running" + (f" ({'; '.join(taken)}: not this stack's)" if taken else "")


def status(config: StackConfig) -> bool:
    """Print this stack's broker, database, Keycloak, each declared topic and each service this
    stack started, healthy or not; True if all are. Only processes whose pid file in this
    stack's state dir names a live process count; another stack's on these ports do not."""
    platform = load_platform()
    checks: list[tuple[str, str, str]] = []  # name, verdict, note

    def check(name: str, ok: bool, note: str) -> None:
        checks.append((name, "healthy" if ok else "UNHEALTHY", note))

    broker_pid = kafka.running_pid(config)
    broker_ok = bool(broker_pid) and kafka.healthy(config)
    check("kafka", broker_ok, f"{config.kafka_bootstrap} (controller {config.controller_port}), pid {broker_pid}"
          if broker_pid else _not_running(config, "kafka"))

    db_pid = postgres.running_pid(config)
    db_ok = bool(db_pid) and run_sync(provision.healthy(config, list(platform.services)))
    check("postgres", db_ok, f"{HOST}:{config.pg_port}, database {config.database}, pid {db_pid}"
          if db_pid else _not_running(config, "postgres"))

    kc_pid = keycloak_server.running_pid(config)
    check("keycloak", bool(kc_pid) and keycloak_server.healthy(config) and keycloak_server.management_ready(config),
          f"{keycloak_server.issuer(config)} (management {config.keycloak_management_port}), pid {kc_pid}"
          if kc_pid else _not_running(config, "keycloak"))

    actual = run_sync(describe(config.kafka_bootstrap)) if broker_ok else {}
    for topic in platform.topics:
        have = actual.get(topic.name)
        if not broker_ok:
            check(f"topic {topic.name}", False, "broker down")
        elif have is None:
            check(f"topic {topic.name}", False, "missing (run: python -m deploy.local topics)")
        else:
            note = f"{have} partitions" + ("" if have == topic.partitions else f", declared {topic.partitions}")
            check(f"topic {topic.name}", have == topic.partitions, note)

    for name, port in config.http_ports.items():
        pid = services.running_pid(config, name) if name in services.names() else None
        if pid:  # services are optional (only `run` starts them): a running, unready one is unhealthy
            answer = services.readiness(services.ready_port(config, name)) or {"ready": False, "checks": "no answer"}
            check(f"service {name}", bool(answer.get("ready")),
                  f"http://{HOST}:{port} {answer.get('checks')}, pid {pid}")
        elif port_open(port):  # told, not counted: it would stop `run`
            checks.append((f"service {name}", "not ours", f"port {port} taken by {holder(port)}"))

    print(f"the {config.name} stack in {config.state_dir}")
    width = max(len(name) for name, _, _ in checks)
    for name, verdict, note in checks:
        print(f"{name:<{width}}  {verdict:<9}  {note}")
    return all(verdict != "UNHEALTHY" for _, verdict, _ in checks)


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
