"""A service's CPU priority (CPU_NICE, services/runtime/priority.py, ADR 0029): the nice value
it takes at start for every thread and, when it leads its session, its session's scheduling
group; never raised; and what the manifests give a service that yields (a smaller CPU request,
compose's cpu_shares). Each priority change runs in a child process: a nice value cannot be
lowered again without privilege, and the test process must keep its own."""

import itertools
import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest
from pydantic import ValidationError

from deploy.compose import compose
from deploy.kubernetes.workloads import CPU_REQUEST_MILLI, resources
from deploy.service_config import cpu_nice, service_config
from schemas.platform import load_platform
from services.curation.config import CurationSettings
from services.metrics.config import MetricsSettings
from services.runtime.priority import WEIGHTS, cpu_request_milli, lower_priority, weight


def in_child(code: str, new_session: bool, autogroup: str) -> dict:
    """Run `code` (which prints a JSON object) in a fresh interpreter, in a session of its own
    or in this one, with `autogroup` standing in for /proc/self/autogroup."""
    program = textwrap.dedent(f"""
        import json, os, pathlib, threading, time
        from services.runtime.priority import lower_priority
        autogroup = pathlib.Path({autogroup!r})
        """) + textwrap.dedent(code)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True,
                          start_new_session=new_session)
    return json.loads(done.stdout)


CHANGE = """
    started = threading.Event()
    worker = threading.Thread(target=lambda: (started.set(), time.sleep(0.5)))
    worker.start(); started.wait()  # a thread that runs before the priority is lowered
    changed = lower_priority(NICE, autogroup)
    tasks = [int(t) for t in os.listdir("/proc/self/task")]
    print(json.dumps({"changed": changed, "nice": sorted({os.getpriority(os.PRIO_PROCESS, t) for t in tasks}),
                      "threads": len(tasks), "autogroup": autogroup.read_text()}))
"""


@pytest.fixture
def autogroup(tmp_path):
    path = tmp_path / "autogroup"
    path.write_text("/autogroup-42 nice 0\n")
    return path


def test_a_session_leader_lowers_every_thread_and_its_session_group(autogroup):
    seen = in_child(CHANGE.replace("NICE", "10"), new_session=True, autogroup=str(autogroup))
    assert seen["nice"] == [10] and seen["threads"] >= 2
    assert seen["changed"] == [f"{seen['threads']} threads", "session group"]
    assert seen["autogroup"] == "10"


def test_inside_another_session_the_session_group_is_left_alone(autogroup):
    """A benchmark or a shell that started the service keeps its own group's weight."""
    seen = in_child(CHANGE.replace("NICE", "10"), new_session=False, autogroup=str(autogroup))
    assert seen["nice"] == [10]
    assert seen["autogroup"] == "/autogroup-42 nice 0\n"
    assert "session group" not in seen["changed"]


def test_a_higher_nice_already_set_is_kept_and_zero_changes_nothing(autogroup):
    autogroup.write_text("/autogroup-42 nice 15\n")
    seen = in_child("""
        os.setpriority(os.PRIO_PROCESS, 0, 15)
        print(json.dumps({"changed": lower_priority(10, autogroup) + lower_priority(0, autogroup),
                          "nice": os.getpriority(os.PRIO_PROCESS, 0), "autogroup": autogroup.read_text()}))
        """, new_session=True, autogroup=str(autogroup))
    assert seen == {"changed": [], "nice": 15, "autogroup": "/autogroup-42 nice 15\n"}


def test_without_a_session_group_file_only_threads_change(tmp_path):
    seen = in_child(CHANGE.replace("NICE", "5").replace('"autogroup": autogroup.read_text()', '"autogroup": None'),
                    new_session=True, autogroup=str(tmp_path / "missing"))
    assert seen["nice"] == [5] and seen["changed"] == [f"{seen['threads']} threads"]


def test_a_nice_value_outside_0_to_19_is_refused():
    with pytest.raises(ValueError, match="outside"):
        lower_priority(-1)
    with pytest.raises(ValueError, match="outside"):
        weight(20)
    with pytest.raises(ValidationError):
        CurationSettings(cpu_nice=20)
    with pytest.raises(ValidationError):
        MetricsSettings(cpu_nice=-5)


def test_no_service_yields_by_default_as_metrics_applies_withdrawals_too(monkeypatch):
    monkeypatch.delenv("CPU_NICE", raising=False)
    assert MetricsSettings().cpu_nice == 0
    assert {service: cpu_nice(service) for service in load_platform().services} == {
        "curation": 0, "consent": 0, "distribution": 0, "metrics": 0}
    assert MetricsSettings(cpu_nice=10).cpu_nice == 10  # an operator's choice (ADR 0029)


def test_weights_are_the_kernels():
    assert weight(0) == 1024 and weight(10) == 110 and weight(19) == 15
    assert all(a > b for a, b in itertools.pairwise(WEIGHTS))  # every step yields more


def test_on_kubernetes_a_yielding_service_requests_what_its_nice_weighs():
    """The CPU request is the cgroup's weight beside the others: at nice 10 the others' times
    110/1024; at 0, as every service is by default, what it always requested (metrics more)."""
    assert cpu_request_milli(0, 100) == 100 and cpu_request_milli(10, 100) == 11
    assert cpu_request_milli(19, 100) == 10  # never below the floor
    metrics, distribution = resources("metrics"), resources("distribution")
    assert distribution["requests"]["cpu"] == f"{CPU_REQUEST_MILLI}m" and metrics["requests"]["cpu"] == "250m"
    assert metrics["limits"]["cpu"] == distribution["limits"]["cpu"] == "1"
    assert metrics["requests"]["memory"] == "512Mi" and distribution["requests"]["memory"] == "256Mi"
    assert service_config("metrics").settings["CPU_NICE"] == service_config("distribution").settings["CPU_NICE"] == "0"


def test_compose_gives_a_yielding_service_its_weight_in_cpu_shares(monkeypatch):
    monkeypatch.setattr("deploy.compose.cpu_nice", lambda service: 10 if service == "metrics" else 0)
    services = compose(load_platform())["services"]
    assert services["metrics"]["cpu_shares"] == 110
    assert all("cpu_shares" not in services[s] for s in ("curation", "consent", "distribution"))


def test_a_service_lowers_its_priority_at_start():
    """`Service.main()` takes CPU_NICE before it serves anything and says so in its log (here it
    then stops at once: its port is taken, so it touches neither broker nor database)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {**os.environ, "CPU_NICE": "7", "ADVOCACY_ENV": "local",
               "HTTP_PORT": str(taken.getsockname()[1]), "MANAGEMENT_PORT": "0"}
        done = subprocess.run([sys.executable, "-c", "from services.curation.app import service; service.main()"],
                              capture_output=True, text=True, env=env, timeout=60)
    lines = [json.loads(line) for line in (done.stdout + done.stderr).splitlines() if line.startswith("{")]
    assert done.returncode == 2
    assert any(line.get("message", "").startswith("CPU priority lowered to nice 7") for line in lines), lines
