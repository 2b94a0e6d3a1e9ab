"""The services as OS processes against a test stack: started, stopped gracefully, or
killed with SIGKILL and started again, and a second replica of a service beside the first
(same consumer groups, its own HTTP port). Their HTTP APIs trust the issuer they are given
(`identity`), or none."""

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from harness.kafka import eventually
from harness.processes import readiness, ready
from schemas.catalog import SERVICES
from services.runtime.identity import OidcSettings
from services.runtime.settings import MANAGEMENT_PORT_OFFSET
from tests.conftest import dsn_for
from tests.stack import Stack

_ports = random.SystemRandom()  # whatever a test seeds the module's generator with


def restartable_port(declared: set[int]) -> int:
    """A free port below Linux's ephemeral range (32768+): a port taken from that range may be
    given to some outgoing connection while its process is down, and the restart not bind.
    The port 10 above it is free too: the service's management port (/ready, /metrics). Neither
    is one of the `declared` ports (the other replicas' and their management ports): those are
    free until their replica starts, and two replicas once drew the same port."""
    while True:
        port = _ports.randrange(20000, 32000)
        if {port, port + MANAGEMENT_PORT_OFFSET} & declared:
            continue
        with socket.socket() as s, socket.socket() as management:
            try:
                s.bind(("127.0.0.1", port))
                management.bind(("127.0.0.1", port + MANAGEMENT_PORT_OFFSET))
                return port
            except OSError:
                continue


def oidc_environment(identity: OidcSettings | None) -> dict[str, str]:
    """The `OIDC_*` variables (services/runtime/identity.py) that make a service trust
    `identity`. None: an empty issuer, so nobody can sign in and an `OIDC_ISSUER` of the
    developer's shell (the platform stack's Keycloak, say) does not reach the processes."""
    if identity is None:
        return {"OIDC_ISSUER": "", "OIDC_JWKS_URL": ""}
    return {"OIDC_ISSUER": identity.issuer, "OIDC_AUDIENCE": ",".join(identity.audience),
            "OIDC_JWKS_URL": identity.jwks_url}


@dataclass
class Replica:
    service: str
    name: str  # the service's name for its first replica, `<service>-<n>` for the n-th
    port: int
    process: subprocess.Popen | None = None
    log: IO[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Supervisor:
    """`identity`: the OpenID Connect issuer the processes' HTTP APIs trust (None: none).
    `env` is added to every process's environment (after os.environ, the stack's and the
    issuer's)."""

    stack: Stack
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    identity: OidcSettings | None = None
    replicas: dict[str, Replica] = field(default_factory=dict)

    def add(self, service: str) -> Replica:
        """Declares the next replica of `service` (not started): its name and port."""
        n = sum(1 for r in self.replicas.values() if r.service == service) + 1
        declared = {p for r in self.replicas.values() for p in (r.port, r.port + MANAGEMENT_PORT_OFFSET)}
        replica = Replica(service, service if n == 1 else f"{service}-{n}", restartable_port(declared))
        self.replicas[replica.name] = replica
        return replica

    def ports(self, service: str | None = None) -> dict[str, int]:
        return {r.name: r.port for r in self.replicas.values() if service in (None, r.service)}

    def start(self, name: str) -> None:
        """Starts (or starts again) a declared replica; its log is appended to, never replaced."""
        replica = self.replicas[name]
        assert not replica.alive, f"{name} is running already"
        # Tracked links point at the first distribution replica (declare it before starting any).
        first_distribution = next(r for r in self.replicas.values() if r.service == "distribution")
        replica.log = replica.log or open(self.log_dir / f"{name}.log", "ab")
        # Everything that reaches another process or a shared place is set here: a service's
        # defaults point at the platform stack, which `make run` may have left running.
        replica.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{replica.service}"],
            env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": self.stack.kafka_bootstrap, "HTTP_PORT": str(replica.port),
                 "DATABASE_URL": dsn_for(self.stack.admin_dsn, replica.service, replica.service),
                 "PUBLIC_BASE_URL": f"http://127.0.0.1:{first_distribution.port}", "SCHEDULE_SECONDS": "0.5",
                 "ADVOCACY_ENV": "local",  # the test stack's passwords are development ones
                 **oidc_environment(self.identity), **self.env},
            stdout=replica.log, stderr=subprocess.STDOUT,
        )

    async def until_ready(self, name: str, timeout: float = 120) -> None:
        port = self.replicas[name].port
        try:
            await eventually(lambda: asyncio.to_thread(ready, port), timeout=timeout, what=f"{name} ready")
        except AssertionError as error:  # say which check failed, for whoever reads the run
            raise AssertionError(f"{error}; /ready answers {await asyncio.to_thread(readiness, port)}") from None

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown, no flush, no offset commit; whatever was in hand is lost."""
        process = self.replicas[name].process
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    async def restart(self, name: str, timeout: float = 180) -> None:
        self.start(name)
        await self.until_ready(name, timeout)

    def stop(self, name: str, timeout: float = 30) -> None:
        """SIGTERM and wait: a graceful shutdown of one replica."""
        process = self.replicas[name].process
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=timeout)

    def stop_all(self, timeout: float = 30) -> None:
        """SIGTERM to every live process, then wait: a graceful shutdown."""
        live = [r for r in self.replicas.values() if r.alive]
        for replica in live:
            replica.process.send_signal(signal.SIGTERM)
        for replica in live:
            replica.process.wait(timeout=timeout)
        for replica in self.replicas.values():
            if replica.log:
                replica.log.close()
                replica.log = None

    def log_of(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")


@asynccontextmanager
async def every_service(supervisor: Supervisor) -> AsyncIterator[dict[str, int]]:
    """The four services started as processes under `supervisor`, until ready: {service: port}.
    On exit each is stopped with SIGTERM and must have shut down gracefully (uvicorn re-raises
    SIGTERM after its shutdown, so the exit code says nothing: the log does)."""
    for name in SERVICES:
        supervisor.add(name)
    try:
        for name in SERVICES:
            supervisor.start(name)
        for name in SERVICES:
            # A fresh clone's first start compiles every module, beside the platform `make run`
            # started on the same two cores: curation took more than 60 s once.
            await supervisor.until_ready(name, timeout=120)
        yield supervisor.ports()
    finally:
        supervisor.stop_all()
    for name in SERVICES:
        log = supervisor.log_of(name)
        assert f"{name} stopped: subscribers, relay and pool closed" in log, name
        assert "Application shutdown complete." in log, name
