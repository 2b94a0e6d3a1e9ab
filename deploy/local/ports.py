"""Who is on a port: before the stack binds one, and when status finds one answering.

The listening socket's owner comes from /proc (Linux): the socket's inode in
/proc/net/tcp{,6}, then the process holding that inode among its file descriptors. As
root every process is visible; otherwise only one's own, and the owner may stay unknown.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

HOST = "127.0.0.1"
_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's `st` column


def port_open(port: int) -> bool:
    """Something accepts TCP connections on 127.0.0.1:port (ours or a stranger's)."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == _LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(inode)
    return inodes


def listener_pid(port: int) -> int | None:
    """Pid of the process listening on `port` (any address), or None if none or not visible."""
    inodes = {f"socket:[{i}]" for i in _listening_inodes(port)}
    if not inodes:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return int(entry.name)
    return None


def describe(pid: int, width: int = 90) -> str:
    """`pid N (command line…)`, shortened to about `width` characters."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        command = " ".join(a.decode(errors="replace") for a in args if a)
    except OSError:
        command = "?"
    if len(command) > width:
        command = command[: width - 1] + "…"
    return f"pid {pid} ({command})"


def holder(port: int) -> str:
    """Who holds `port`, for a message: `pid N (…)` or "a process this user cannot see"."""
    pid = listener_pid(port)
    return describe(pid) if pid else "a process this user cannot see"
