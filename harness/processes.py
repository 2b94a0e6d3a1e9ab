"""Ports and readiness for service processes started by tests and benchmarks."""

import socket
import urllib.error
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
    return readiness(http_port, management_port).startswith("200 ")


def readiness(http_port: int, management_port: int | None = None) -> str:
    """The status and body /ready answers ("200 {...}", "503 {...}: the checks that failed),
    or the error in reaching it. Given 5 s: the broker's check alone may take 2 (FastStream's
    ping), and on two busy cores the three checks together took longer than a 2 s probe."""
    port = management_port or http_port + MANAGEMENT_PORT_OFFSET
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=5) as response:
            return f"{response.status} {response.read().decode(errors='replace')}"
    except urllib.error.HTTPError as error:
        return f"{error.code} {error.read().decode(errors='replace')}"
    except OSError as error:
        return f"unreachable: {error!r}"
