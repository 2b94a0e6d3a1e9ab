"""The platform's services as separate OS processes (`python -m services.<name>`),
pointed at the local stack, with logs and pid files in the state dir."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request

from schemas.platform import load_platform

from . import processes
from .config import HOST, StackConfig, StackError


def _files(c: StackConfig, name: str) -> tuple:
    return c.state_dir / "services" / f"{name}.pid", c.state_dir / "logs" / f"{name}.log"


def _marker(name: str) -> str:
    return f"services.{name}"


def start(c: StackConfig) -> dict[str, bool]:
    """Start each declared service unless it runs; wait until all are ready. Returns name -> started."""
    started = {}
    for name, port in load_platform().services.items():
        pid_file, log_file = _files(c, name)
        if processes.running_pid(pid_file, _marker(name)):
            started[name] = False
            continue
        env = {
            **os.environ, "KAFKA_BOOTSTRAP_SERVERS": c.kafka_bootstrap,
            "DATABASE_URL": c.service_dsn(name), "HTTP_PORT": str(port),
        }
        processes.spawn([sys.executable, "-m", f"services.{name}"], pid_file, log_file, env)
        started[name] = True
    for name in started:
        _wait_ready(c, name)
    return started


def stop(c: StackConfig) -> list[str]:
    """SIGTERM each running service (graceful: finish the message in hand); returns the stopped."""
    return [name for name in load_platform().services
            if processes.terminate(_files(c, name)[0], _marker(name), grace=20)]


def readiness(name: str, port: int) -> dict | None:
    """The service's /ready answer, or None if it does not answer."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/ready", timeout=2) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        return json.load(error)
    except OSError:
        return None


def _wait_ready(c: StackConfig, name: str, timeout: float = 60) -> None:
    port = load_platform().services[name]
    pid_file, log_file = _files(c, name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not processes.running_pid(pid_file, _marker(name)):
            raise StackError(f"{name}: exited during startup; see {log_file}")
        answer = readiness(name, port)
        if answer and answer.get("ready"):
            return
        time.sleep(0.3)
    raise StackError(f"{name}: not ready after {timeout:.0f}s; see {log_file}")
