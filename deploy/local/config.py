"""Where the local stack lives and every port it binds, from environment variables with local defaults.

One place for ports: Kafka and its controller, Postgres, Keycloak and its management
interface, and the HTTP and management ports (/health, /ready, /metrics) of the services
(and of the portal to come). `up`, `run`,
`status` and `down` take them from here, and so does the test stack (`for_tests`), which
sits beside the platform's with its own state dir and every port moved by
TEST_PORT_OFFSET, so `make test` never joins what `make run` left running.

Defaults are deliberately off the usual 9092/5432/8080 so the stack can run next to a
developer's own Kafka, Postgres or Keycloak.
"""

from __future__ import annotations

import asyncio
import glob
import os
import re
import shutil
from collections.abc import Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple, TypeVar

from schemas.platform import Platform, Topic, load_platform  # re-exported for callers of this module
from services.runtime.settings import MANAGEMENT_PORT_OFFSET

from .ports import holder, port_open

__all__ = [
    "PORTAL",
    "TEST_PORT_OFFSET",
    "Platform",
    "Port",
    "StackConfig",
    "StackError",
    "Topic",
    "load_platform",
    "port_open",
    "require",
    "require_free",
    "run_sync",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PORTAL = "portal"  # the people's page, a fifth process to come: its port is reserved already
TEST_PORT_OFFSET = 50  # the test stack's ports: each of the platform stack's plus this


class StackError(RuntimeError):
    """A failure the CLI reports as one line (missing tool, port taken, process that would not start)."""


class Port(NamedTuple):
    component: str  # "kafka", "postgres", "keycloak" or the name of a service
    label: str  # what the port is, as status and errors name it
    number: int
    variable: str  # the environment variable that moves it


@dataclass(frozen=True)
class StackConfig:
    state_dir: Path = REPO_ROOT / ".stack"
    kafka_port: int = 29092
    pg_port: int = 25432
    keycloak_port: int = 28080
    http_port_base: int = 8081  # curation, consent, distribution, metrics (declaration order), then portal
    management_port_base: int = 0  # the same in a row; 0: http_port_base + 10, the services' own default
    kafka_controller_port: int = 0  # 0: kafka_port + 1
    keycloak_management_port: int = 0  # 0: keycloak_port + 1
    database: str = "advocacy"
    name: str = "platform"  # or "test": the stack `make test` uses (for_tests)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StackConfig:
        """From ADVOCACY_* variables (README, "The local stack"); raises StackError for a bad value."""
        variables: Mapping[str, str] = os.environ if env is None else env

        def port(variable: str, default: int) -> int:
            raw = variables.get(variable)
            if not raw:
                return default
            if not raw.isdigit() or not 1 <= int(raw) <= 65535:
                raise StackError(f"{variable}={raw!r} is not a port number (1-65535)")
            return int(raw)

        return cls(
            state_dir=Path(variables.get("ADVOCACY_STACK_DIR") or REPO_ROOT / ".stack").resolve(),
            kafka_port=port("ADVOCACY_KAFKA_PORT", cls.kafka_port),
            kafka_controller_port=port("ADVOCACY_KAFKA_CONTROLLER_PORT", 0),
            pg_port=port("ADVOCACY_PG_PORT", cls.pg_port),
            keycloak_port=port("ADVOCACY_KEYCLOAK_PORT", cls.keycloak_port),
            keycloak_management_port=port("ADVOCACY_KEYCLOAK_MANAGEMENT_PORT", 0),
            http_port_base=port("ADVOCACY_HTTP_PORT_BASE", cls.http_port_base),
            management_port_base=port("ADVOCACY_MANAGEMENT_PORT_BASE", 0),
        )

    def __post_init__(self) -> None:
        # Resolved once: a later replace(kafka_port=...) keeps the controller where it was.
        if not self.kafka_controller_port:
            object.__setattr__(self, "kafka_controller_port", self.kafka_port + 1)
        if not self.keycloak_management_port:
            object.__setattr__(self, "keycloak_management_port", self.keycloak_port + 1)
        seen: dict[int, str] = {}
        for p in self.ports():
            if p.number in seen:
                raise StackError(f"{p.label} and {seen[p.number]} would both take port {p.number}: "
                                 f"set {p.variable} to another port")
            if not 1 <= p.number <= 65535:
                raise StackError(f"{p.label}: {p.number} is not a port number (set {p.variable})")
            seen[p.number] = p.label

    def for_tests(self) -> StackConfig:
        """The test stack beside this one: state in `<state dir>-test`, every port + TEST_PORT_OFFSET."""
        o = TEST_PORT_OFFSET
        return replace(self, name="test", state_dir=self.state_dir.with_name(self.state_dir.name + "-test"),
                       kafka_port=self.kafka_port + o, kafka_controller_port=self.kafka_controller_port + o,
                       pg_port=self.pg_port + o, keycloak_port=self.keycloak_port + o,
                       keycloak_management_port=self.keycloak_management_port + o,
                       http_port_base=self.http_port_base + o,
                       management_port_base=self.management_port_base and self.management_port_base + o)

    @property
    def controller_port(self) -> int:
        return self.kafka_controller_port

    @property
    def http_ports(self) -> dict[str, int]:
        """Service name -> HTTP port: the declared services in order, then the portal."""
        names = [*load_platform().services, PORTAL]
        return {name: self.http_port_base + i for i, name in enumerate(names)}

    @property
    def management_ports(self) -> dict[str, int]:
        """Service name -> its management port (/health, /ready, /metrics), in the same order:
        by default each HTTP port + 10, as a service started by hand takes it."""
        base = self.management_port_base or self.http_port_base + MANAGEMENT_PORT_OFFSET
        return {name: base + i for i, name in enumerate(self.http_ports)}

    def ports(self) -> list[Port]:
        """Every port this stack binds (or will: the portal's)."""
        return [
            Port("kafka", "kafka", self.kafka_port, "ADVOCACY_KAFKA_PORT"),
            Port("kafka", "kafka controller", self.kafka_controller_port, "ADVOCACY_KAFKA_CONTROLLER_PORT"),
            Port("postgres", "postgres", self.pg_port, "ADVOCACY_PG_PORT"),
            Port("keycloak", "keycloak", self.keycloak_port, "ADVOCACY_KEYCLOAK_PORT"),
            Port("keycloak", "keycloak management", self.keycloak_management_port, "ADVOCACY_KEYCLOAK_MANAGEMENT_PORT"),
            *(Port(name, f"{name} http", port, "ADVOCACY_HTTP_PORT_BASE") for name, port in self.http_ports.items()),
            *(Port(name, f"{name} management", port, "ADVOCACY_MANAGEMENT_PORT_BASE")
              for name, port in self.management_ports.items()),
        ]

    def ports_of(self, component: str) -> list[Port]:
        return [p for p in self.ports() if p.component == component]

    @property
    def kafka_bootstrap(self) -> str:
        return f"{HOST}:{self.kafka_port}"

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres:postgres@{HOST}:{self.pg_port}/{self.database}"

    def service_dsn(self, name: str) -> str:
        # Local-only convention: each service's role has its own name as password.
        return f"postgresql://{name}:{name}@{HOST}:{self.pg_port}/{self.database}"

    @property
    def keycloak_url(self) -> str:
        return f"http://{HOST}:{self.keycloak_port}"

    @property
    def kafka_dir(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def keycloak_dir(self) -> Path:
        return self.state_dir / "keycloak"


def require_free(c: StackConfig, component: str) -> None:
    """Before `component` of this stack starts: each of its ports free, or one line naming the
    port, who holds it and the variable that moves it."""
    for p in c.ports_of(component):
        if port_open(p.number):
            moved = f" (the test stack takes it + {TEST_PORT_OFFSET})" if c.name == "test" else ""
            raise StackError(f"{p.label}: port {p.number} is taken by {holder(p.number)}, not by this stack "
                             f"({c.state_dir}): stop that process or set {p.variable}{moved}")


def require(tool: str, hint: str) -> str:
    """Path of an executable on PATH, or a StackError telling what to install."""
    path = shutil.which(tool)
    if not path:
        raise StackError(f"{tool} not found: {hint}")
    return path


def pg_bin_dir() -> Path:
    """PostgreSQL server binaries (initdb, pg_ctl): ADVOCACY_PG_BIN, Debian's layout, or PATH."""
    candidates = [os.environ.get("ADVOCACY_PG_BIN", "")]
    # Newest Debian major version first (numerically: "16" > "9").
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(versions, key=lambda p: [int(n) for n in re.findall(r"\d+", p)], reverse=True)
    candidates.append(os.path.dirname(shutil.which("pg_ctl") or ""))
    for c in candidates:
        if c and os.access(os.path.join(c, "initdb"), os.X_OK) and os.access(os.path.join(c, "pg_ctl"), os.X_OK):
            return Path(c)
    raise StackError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL 15 "
        "(apt-get install postgresql-15) or set ADVOCACY_PG_BIN to their directory"
    )


T = TypeVar("T")


def run_sync(coro: Coroutine[object, object, T]) -> T:
    """Run a coroutine from sync code, also when called inside a running loop (e.g. an async test)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:  # asyncio.run refuses to nest; a fresh thread has no loop
        return pool.submit(asyncio.run, coro).result()
