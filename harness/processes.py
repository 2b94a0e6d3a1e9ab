"""Ports and readiness for service processes started by tests and benchmarks."""

import socket
import urllib.request

from services.runtime.settings import MANAGEMENT_PORT_OFFSET


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ready(http_port: int, management_port: int | None = None) -> bool:
    """Whether the service on `http_port` answers 200 on /ready (broker, database, relay up),
    which it serves on its management port: `management_port`, by default the service's own
    default (HTTP_PORT + 10, services/runtime/settings.py)."""
    port = management_port or http_port + MANAGEMENT_PORT_OFFSET
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False
