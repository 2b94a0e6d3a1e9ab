"""The platform's services as separate OS processes (`python -m services.<name>`), pointed at
this stack, on this stack's HTTP ports, with logs and pid files in its state dir; then the
portal (`python -m services.portal`, the people's pages), which talks to the four services
over HTTP and to Keycloak, and to nothing else."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from schemas.platform import load_platform

from . import processes
from .config import HOST, PORTAL, StackConfig, StackError, require_free
from .keycloak import API_AUDIENCE, Realm
from .keycloak import PORTAL as PORTAL_CLIENT


def _files(c: StackConfig, name: str) -> tuple[Path, Path]:
    return c.state_dir / "services" / f"{name}.pid", c.state_dir / "logs" / f"{name}.log"


def _marker(name: str) -> str:
    return f"services.{name}"


def names() -> list[str]:
    """The processes this module starts: the declared services (start), then the portal (start_portal)."""
    return [*load_platform().services, PORTAL]


def environment(c: StackConfig, name: str) -> dict[str, str]:
    """What a service of this stack is told. Everything that reaches another process or a shared
    place is set, so none falls back to the services' defaults, which are the default stack's.
    Local mode: the stack's passwords and keys are development ones (services/runtime/settings.py)."""
    if name == PORTAL:
        return portal_environment(c)
    return {"ADVOCACY_ENV": "local", "KAFKA_BOOTSTRAP_SERVERS": c.kafka_bootstrap, "DATABASE_URL": c.service_dsn(name),
            "HTTP_PORT": str(c.http_ports[name]), "MANAGEMENT_PORT": str(c.management_ports[name]),
            "PUBLIC_BASE_URL": f"http://{HOST}:{c.http_ports['distribution']}",
            # People sign in at this stack's Keycloak; the services trust its realm.
            "OIDC_ISSUER": Realm.of(c).issuer, "OIDC_AUDIENCE": API_AUDIENCE}


def portal_url(c: StackConfig) -> str:
    return f"http://{HOST}:{c.http_ports[PORTAL]}"


def portal_environment(c: StackConfig) -> dict[str, str]:
    """The portal: no database, no broker; the services' APIs, the issuer and its own client.
    Its public URL is on 127.0.0.1, whose callback the realm accepts on any port."""
    ports = c.http_ports
    return {"ADVOCACY_ENV": "local", "HTTP_PORT": str(ports[PORTAL]), "PORTAL_PUBLIC_URL": portal_url(c),
            "OIDC_ISSUER": Realm.of(c).issuer,
            "OIDC_AUDIENCE": API_AUDIENCE, "PORTAL_CLIENT_ID": PORTAL_CLIENT.client_id,
            "PORTAL_CLIENT_SECRET": PORTAL_CLIENT.secret, "PUBLIC_BASE_URL": f"http://{HOST}:{ports['distribution']}",
            **{f"{name.upper()}_URL": f"http://{HOST}:{ports[name]}" for name in load_platform().services}}


def running_pid(c: StackConfig, name: str) -> int | None:
    """Pid of this stack's process of service `name`, if alive."""
    return processes.running_pid(_files(c, name)[0], _marker(name))


def start(c: StackConfig) -> dict[str, bool]:
    """Start each declared service unless it runs; wait until all are ready. Returns name -> started.
    Fails before starting any if a port of one to start is taken by another process."""
    return _start(c, list(load_platform().services))


def start_portal(c: StackConfig) -> bool:
    """Start the portal unless it runs (after the services: it is ready once they answer and
    the stack's Keycloak does); True if it was started."""
    return _start(c, [PORTAL])[PORTAL]


def _start(c: StackConfig, names: list[str]) -> dict[str, bool]:
    to_start = [name for name in names if not running_pid(c, name)]
    for name in to_start:
        require_free(c, name)
    for name in to_start:
        pid_file, log_file = _files(c, name)
        processes.spawn([sys.executable, "-m", f"services.{name}"], pid_file, log_file,
                        {**os.environ, **environment(c, name)})
    for name in names:
        _wait_ready(c, name)
    return {name: name in to_start for name in names}


def stop(c: StackConfig) -> dict[str, int]:
    """SIGTERM each of this stack's running services (graceful: finish the message in hand);
    returns name -> pid of those stopped."""
    stopped = {}
    for name in [PORTAL, *load_platform().services]:  # the portal first: it calls the others
        pid = processes.terminate(_files(c, name)[0], _marker(name), grace=20)
        if pid:
            stopped[name] = pid
    return stopped


def readiness(port: int) -> dict[str, Any] | None:
    """The /ready answer of whatever serves `port` (a management port), or None if nothing
    answers it."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/ready", timeout=2) as response:
            ready: dict[str, Any] = json.load(response)
            return ready
    except urllib.error.HTTPError as error:
        try:
            not_ready: dict[str, Any] = json.load(error)
            return not_ready
        except ValueError:
            return {"ready": False, "checks": f"HTTP {error.code}"}
    except (OSError, ValueError):
        return None


def ready_port(c: StackConfig, name: str) -> int:
    """Where `name` answers /ready: a service on its management port; the portal, which keeps
    no data, on its only one."""
    return c.http_ports[name] if name == PORTAL else c.management_ports[name]


def _wait_ready(c: StackConfig, name: str, timeout: float = 60) -> None:
    port = ready_port(c, name)
    pid_file, log_file = _files(c, name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if processes.exited(pid_file, _marker(name)):
            raise StackError(f"{name}: exited during startup; see {log_file}")
        answer = readiness(port)
        if answer and answer.get("ready"):
            return
        time.sleep(0.3)
    raise StackError(f"{name}: not ready after {timeout:.0f}s; see {log_file}")
