"""A service's CPU priority on a machine it shares (`CPU_NICE`, ADR 0029): a bulk consumer
(metrics' ingestion) yields the cores to the latency-bound work (a withdrawal, a command,
a redirect) when they are short, and takes whatever they leave when they are not.

Linux shares a core among *scheduling groups* before it shares it among the threads of a
group. Where the kernel groups processes by session (`CONFIG_SCHED_AUTOGROUP`, on by
default on desktop and server distributions, /proc/sys/kernel/sched_autogroup_enabled), a
thread's nice value weighs only against the other threads of its session: a service that
leads its own session (the local stack starts each so) must set its session group's nice
(/proc/self/autogroup) as well, or it changes nothing. In a container the group is the
container's cgroup, whose weight is the orchestrator's (a Kubernetes CPU request,
`cpu_request_milli`; compose's `cpu_shares`): there the process nice only orders the
service's own threads, which is harmless.

Only ever lowered: raising a priority needs a privilege (CAP_SYS_NICE) that no service has.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

MAX_NICE = 19
# The kernel's weight of a thread (or a group) at nice 0..19 (kernel/sched/core.c,
# sched_prio_to_weight): each step is about 1.25 times less; nice 10 weighs 110, a ninth
# of nice 0's 1024, so under contention it gets a tenth of a core a nice-0 one gets 0.9 of.
WEIGHTS = (1024, 820, 655, 526, 423, 335, 272, 215, 172, 137, 110, 87, 70, 56, 45, 36, 29, 23, 18, 15)
AUTOGROUP = Path("/proc/self/autogroup")


def weight(nice: int) -> int:
    """The scheduler's weight at `nice` (0..19; ValueError outside)."""
    if not 0 <= nice <= MAX_NICE:
        raise ValueError(f"nice {nice} is outside 0..{MAX_NICE}")
    return WEIGHTS[nice]


def cpu_request_milli(nice: int, base_milli: int, floor_milli: int = 10) -> int:
    """The CPU request (millicores) that gives a container the weight `nice` gives a process,
    beside containers that request `base_milli` (a cgroup's weight follows its request), and
    never below `floor_milli` (Kubernetes' smallest weights are coarse)."""
    return max(floor_milli, round(base_milli * weight(nice) / weight(0)))


def lower_priority(nice: int, autogroup: Path = AUTOGROUP) -> list[str]:
    """Lower this process's CPU priority to `nice` (0..19; never raised: a higher nice already
    set, by `nice -n` say, is kept): every thread it has (Linux keeps a nice per thread, and
    threads started later inherit their creator's), and its session's scheduling group when
    the process leads its session (the group is then the service's own; a process started
    inside another's session leaves that session's group alone). Returns what it changed, for
    the log ("1 thread", "session group"); a kernel without the group file changes threads only."""
    weight(nice)  # ValueError outside 0..19
    if nice == 0:
        return []
    threads = 0
    for task in _threads():
        with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
            if os.getpriority(os.PRIO_PROCESS, task) < nice:
                os.setpriority(os.PRIO_PROCESS, task, nice)
                threads += 1
    changed = [f"{threads} thread{'s' if threads > 1 else ''}"] if threads else []
    if os.getsid(0) == os.getpid():
        try:
            current = int(autogroup.read_text().split()[-1])  # "/autogroup-123 nice 0"
            if current < nice:
                autogroup.write_text(str(nice))
                changed.append("session group")
        except (OSError, ValueError, IndexError):
            pass  # no autogroup: the scheduler groups by cgroup only, where the threads' nice is all we set
    return changed


def _threads() -> list[int]:
    try:
        return [int(t.name) for t in Path("/proc/self/task").iterdir()]
    except OSError:  # no /proc: the calling thread only (0 means the caller)
        return [0]
