"""CPU time per process of the local stack, read from /proc: what a benchmark spends beside
its latencies, which on a shared, variable host say less than CPU time does."""

import os
import resource
import time
from pathlib import Path
from typing import Any

from deploy.local import kafka, keycloak_server, postgres

_TICK = os.sysconf("SC_CLK_TCK")


class CpuClock:
    """CPU time used from its making to `percent()` by each of `processes` (name: pid), by
    Postgres (the postmaster, every backend and the backends that ended), Kafka, Keycloak, wrk (this
    process's children that ended meanwhile: wrk is the only one, so read this after it
    ended), this process and the machine as a whole; in percent of one core."""

    def __init__(self, config: Any, processes: dict[str, int]) -> None:
        self.processes = processes
        self.postgres, self.kafka = postgres.running_pid(config), kafka.running_pid(config)
        self.keycloak = keycloak_server.running_pid(config)  # the stack's; the benchmarks' issuer is their own
        self.started, self.before, self.waited_before = time.perf_counter(), self._read(), self._waited()

    def _read(self) -> dict[str, float]:
        used = {name: _cpu_seconds(pid) for name, pid in self.processes.items()}
        if self.postgres:
            used["postgres"] = _cpu_seconds(self.postgres, reaped=True) + sum(
                _cpu_seconds(pid) for pid in _children(self.postgres))
        if self.kafka:
            used["kafka"] = _cpu_seconds(self.kafka)
        if self.keycloak:
            used["keycloak"] = _cpu_seconds(self.keycloak)
        children, own = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
        used["wrk"] = children.ru_utime + children.ru_stime
        used["load_generator"] = own.ru_utime + own.ru_stime
        with open("/proc/stat") as stat:
            ticks = [int(t) for t in stat.readline().split()[1:]]
        used["machine"] = (sum(ticks[:8]) - ticks[3] - ticks[4]) / _TICK  # all but idle and iowait
        return used

    def _waited(self) -> dict[str, float]:
        """Seconds the threads of each process spent runnable but waiting for a core."""
        waited = {name: _runqueue_seconds(pid) for name, pid in self.processes.items()}
        if self.postgres:
            waited["postgres"] = sum(_runqueue_seconds(pid) for pid in [self.postgres, *_children(self.postgres)])
        if self.kafka:
            waited["kafka"] = _runqueue_seconds(self.kafka)
        waited["load_generator"] = _runqueue_seconds(os.getpid())
        return waited

    def seconds(self) -> dict[str, float]:
        """CPU seconds used since the clock's making, by the same names as `percent`'s."""
        after = self._read()
        return {name: after[name] - self.before.get(name, 0.0) for name in after}

    def percent(self) -> tuple[dict[str, int], dict[str, int]]:
        """(CPU used, time waiting for a core) since the clock's making, in percent of the time."""
        after, waited, elapsed = self._read(), self._waited(), time.perf_counter() - self.started
        used = {name: round(100 * (after[name] - self.before.get(name, 0.0)) / elapsed)
                for name in after}
        used["others"] = used["machine"] - sum(v for k, v in used.items() if k != "machine")
        return used, {name: round(100 * (waited[name] - self.waited_before.get(name, 0.0)) / elapsed)
                      for name in waited}


def _cpu_seconds(pid: int, reaped: bool = False) -> float:
    """utime + stime of `pid` (and of its ended, waited-for children if `reaped`); 0 if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command's closing parenthesis: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    return sum(int(t) for t in fields[11:15 if reaped else 13]) / _TICK


def _runqueue_seconds(pid: int) -> float:
    """Time every thread of `pid` waited on a run queue (schedstat's second field); 0 if gone."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(task.read_text().split()[1])
        except (OSError, IndexError):
            continue
    return total / 1e9


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
