"""Detached background processes tracked by pid files: Kafka, Keycloak and the services.

Each is started in a session of its own (it survives the CLI and its terminal's Ctrl-C),
so its process group id is its pid: a wrapper script and the JVM it runs stop together."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path


def running_pid(pid_file: Path, marker: str) -> int | None:
    """Pid from `pid_file` if that process is alive and its command line contains
    `marker` (zombies and recycled pids do not count). A live process whose command line
    reads empty counts as ours: the kernel gives an empty /proc/<pid>/cmdline when it cannot
    read the process's memory at that moment, and the only processes without one for good
    are kernel threads (children of kthreadd, pid 2), which no pid file of ours names."""
    try:
        pid = int(pid_file.read_text())
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it if this very process started it and it died
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError):
        return None
    state, parent = stat.rsplit(")", 1)[1].split()[:2]
    if state in ("Z", "X"):
        return None
    return pid if marker in cmdline or (not cmdline and int(parent) != 2) else None


def exited(pid_file: Path, marker: str) -> bool:
    """The process is gone: not found twice, a second apart (a process starting on a loaded
    machine once read as gone for a moment while it kept running)."""
    if running_pid(pid_file, marker):
        return False
    time.sleep(1)
    return not running_pid(pid_file, marker)


def spawn(command: list[str], pid_file: Path, log_file: Path, env: dict[str, str] | None = None) -> int:
    """Start `command` detached (it survives the CLI and its terminal's Ctrl-C)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as out:
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, env=env,
        )
    written = pid_file.with_suffix(".pid.new")
    written.write_text(f"{proc.pid}\n")
    written.replace(pid_file)  # atomic: a concurrent `status` never reads half a pid file
    return proc.pid


def terminate(pid_file: Path, marker: str, grace: float = 30, group: bool = False) -> int | None:
    """SIGTERM, SIGKILL after `grace` seconds; returns the pid if it was running, else None.
    `group`: signal the whole process group (a start script and the JVM it spawned)."""
    pid = running_pid(pid_file, marker)
    if not pid:
        return None
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            (os.killpg if group else os.kill)(pid, sig)
        deadline = time.monotonic() + wait
        while running_pid(pid_file, marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not running_pid(pid_file, marker):
            break
    pid_file.unlink(missing_ok=True)
    return pid
