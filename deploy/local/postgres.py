"""A private PostgreSQL cluster for the stack: initdb, start, stop (roles and schemas: provision.py).

initdb and postgres refuse to run as root, so as root they run as `nobody`, which
then needs a directory of its own that it can reach (see cluster_dir).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from .config import HOST, StackConfig, StackError, pg_bin_dir, require_free

SERVER_USER = "nobody"
AS_ROOT = os.geteuid() == 0


def runuser() -> str:
    """runuser (util-linux) lives in sbin, which a non-login root shell may not have on PATH."""
    found = shutil.which("runuser", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if not found:
        raise StackError("runuser not found: install util-linux (apt-get install util-linux)")
    return found


def _run(*cmd: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    prefix = [runuser(), "-u", SERVER_USER, "--"] if AS_ROOT else []
    return subprocess.run([*prefix, *map(str, cmd)], cwd=cwd, capture_output=True, text=True)


def _hand_over(path: Path) -> Path:
    if AS_ROOT:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(path, user.pw_uid, user.pw_gid)
    return path


def _usable(d: Path, port: int) -> bool:
    """Can the server user write here, and is the Unix socket path short enough (107 bytes max)?"""
    if len(str(d / "run" / f".s.PGSQL.{port}")) > 100:
        return False
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    _hand_over(d)
    return not AS_ROOT or _run("test", "-w", d, "-a", "-x", d, cwd=Path("/")).returncode == 0


def cluster_dir(c: StackConfig) -> Path:
    """Holds data/, run/ (socket) and postgres.log: <state>/postgres, or under /var/tmp when
    `nobody` cannot reach the state dir (repo in a 0700 mktemp dir). The choice is recorded."""
    marker = c.state_dir / "postgres.location"
    if marker.exists():
        return Path(marker.read_text().strip())
    c.state_dir.mkdir(parents=True, exist_ok=True)
    chosen = c.state_dir / "postgres"
    if not _usable(chosen, c.pg_port):
        with contextlib.suppress(OSError):
            chosen.rmdir()
        chosen = Path("/var/tmp") / f"advocacy-stack-{hashlib.sha1(str(c.state_dir).encode()).hexdigest()[:10]}"
        if not _usable(chosen, c.pg_port):
            raise StackError(f"postgres: no directory usable by user {SERVER_USER} (tried {chosen})")
    marker.write_text(f"{chosen}\n")
    return chosen


def _init_cluster(root: Path, bindir: Path) -> None:
    pwfile = root / "pwfile"
    pwfile.write_text("postgres\n")
    done = _run(bindir / "initdb", "-D", root / "data", "-U", "postgres", "--auth-local=trust",
                "--auth-host=scram-sha-256", f"--pwfile={_hand_over(pwfile)}", "-E", "UTF8",
                "--locale=C.UTF-8", cwd=root)
    pwfile.unlink()
    if done.returncode != 0:
        raise StackError(f"postgres: initdb failed (`down --purge` starts over):\n{done.stdout}{done.stderr}")
    # Our settings live in advocacy.conf, rewritten on each start so port changes apply.
    with open(root / "data" / "postgresql.conf", "a") as conf:
        conf.write("\ninclude_if_exists = 'advocacy.conf'\n")


def _write_settings(c: StackConfig, root: Path) -> None:
    (root / "run").mkdir(exist_ok=True)
    _hand_over(root / "run")
    conf = root / "data" / "advocacy.conf"
    conf.write_text(f"""# Written by deploy/local/postgres.py on every start.
listen_addresses = '{HOST}'
port = {c.pg_port}
unix_socket_directories = '{root / "run"}'
max_connections = 200
shared_buffers = 256MB
""")
    _hand_over(conf)


def is_running(c: StackConfig) -> bool:
    if not (c.state_dir / "postgres.location").exists():
        return False  # never started: do not create directories just to say so
    data = cluster_dir(c) / "data"
    return data.is_dir() and _run(pg_bin_dir() / "pg_ctl", "status", "-D", data, cwd=data.parent).returncode == 0


def running_pid(c: StackConfig) -> int | None:
    """The postmaster's pid if this stack's cluster runs (postmaster.pid's first line)."""
    if not is_running(c):
        return None
    try:
        return int((cluster_dir(c) / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def start_database(c: StackConfig) -> bool:
    """Start the cluster (initdb on first use); True if started, False if it was running. No provisioning."""
    bindir, root = pg_bin_dir(), cluster_dir(c)
    if not (root / "data" / "PG_VERSION").exists():
        _init_cluster(root, bindir)
    elif is_running(c):
        return False
    require_free(c, "postgres")
    _write_settings(c, root)
    log = root / "postgres.log"
    done = _run(bindir / "pg_ctl", "-D", root / "data", "-l", log, "-w", "-t", "60", "start", cwd=root)
    if done.returncode != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(True)[-15:]) if log.exists() else ""
        raise StackError(f"postgres: pg_ctl start failed:\n{done.stdout}{done.stderr}{tail}")
    return True


def stop_database(c: StackConfig) -> bool:
    """Fast shutdown (rolls back open transactions); True if it was running."""
    if not is_running(c):
        return False
    root = cluster_dir(c)
    done = _run(pg_bin_dir() / "pg_ctl", "-D", root / "data", "-m", "fast", "-w", "stop", cwd=root)
    if done.returncode != 0:
        raise StackError(f"postgres: pg_ctl stop failed:\n{done.stdout}{done.stderr}")
    return True
