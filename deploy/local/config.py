"""Where the local stack lives and how to reach it, from environment variables with local defaults.

Ports are deliberately off the usual 9092/5432 so the stack can run next to a
developer's own Kafka or Postgres.
"""

from __future__ import annotations

import asyncio
import glob
import os
import re
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from schemas.platform import Platform, Topic, load_platform  # re-exported for callers of this module

__all__ = ["StackConfig", "StackError", "require", "run_sync", "port_open", "load_platform", "Platform", "Topic"]

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


class StackError(RuntimeError):
    """A failure the CLI reports as one line (missing tool, process that would not start)."""


@dataclass(frozen=True)
class StackConfig:
    state_dir: Path = REPO_ROOT / ".stack"
    kafka_port: int = 29092
    pg_port: int = 25432
    database: str = "advocacy"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "StackConfig":
        env = os.environ if env is None else env
        return cls(
            state_dir=Path(env.get("ADVOCACY_STACK_DIR") or REPO_ROOT / ".stack").resolve(),
            kafka_port=int(env.get("ADVOCACY_KAFKA_PORT") or 29092),
            pg_port=int(env.get("ADVOCACY_PG_PORT") or 25432),
        )

    @property
    def controller_port(self) -> int:
        return self.kafka_port + 1

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
    def kafka_dir(self) -> Path:
        return self.state_dir / "kafka"


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


def port_open(port: int) -> bool:
    """Something accepts TCP connections on 127.0.0.1:port (ours or a stranger's)."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def run_sync(coro):
    """Run a coroutine from sync code, also when called inside a running loop (e.g. an async test)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:  # asyncio.run refuses to nest; a fresh thread has no loop
        return pool.submit(asyncio.run, coro).result()
