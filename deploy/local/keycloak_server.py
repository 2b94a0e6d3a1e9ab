"""Keycloak 26, the local stack's OpenID Connect provider, as a JVM process from its server
distribution on Maven Central (as the Kafka jars come), with the realm in deploy/keycloak/.

Each stack unpacks its own copy into `<state>/keycloak/server/`: dev mode keeps its H2
database in the distribution's `data/`, and its first start re-augments (rewrites) the
distribution's `lib/quarkus/` for the dev profile, so two stacks cannot share one copy.
`start-dev` imports every realm file in `data/import/` that does not exist yet; when the
realm file changes, the next start drops the local data so the new realm is imported.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from . import processes
from .config import HOST, REPO_ROOT, StackConfig, StackError, require, require_free

VERSION = "26.4.0"
ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{VERSION}:zip"
REALM = "advocacy"
REALM_FILE = REPO_ROOT / "deploy" / "keycloak" / "realm-advocacy.json"
# The master realm's bootstrap admin, for the admin console at <keycloak>/admin/: LOCAL ONLY,
# on a server bound to 127.0.0.1. Nothing of the platform logs in with it.
ADMIN_USERNAME, ADMIN_PASSWORD = "admin", "admin"
# kc.sh's own default outside containers, stated here so both stacks stay within it.
HEAP = "-Xms64m -Xmx512m"
# The JIT's quick tier only: a restart was ready in 12-18 s instead of 19-30 s on 2 busy
# cores, while 300 sign-ins took about as long (8-17 s either way); a dev server never runs
# long enough for the optimising tier to pay back the CPU it takes from Kafka's start.
JIT = "-XX:TieredStopAtLevel=1"


def server_dir(c: StackConfig) -> Path:
    return c.keycloak_dir / "server"


def issuer(c: StackConfig) -> str:
    """The realm's issuer (`iss` of its tokens): fixed by --hostname, however Keycloak is reached."""
    return f"{c.keycloak_url}/realms/{REALM}"


def _is_version(server: Path) -> bool:
    version_file = server / "version.txt"
    return version_file.exists() and VERSION in version_file.read_text()


def resolve_distribution(c: StackConfig) -> None:
    """Once per stack: copy the stack beside it's distribution if that one has started once
    (already built for dev mode: the copy's first start skips a minute of augmentation), else
    unpack it from Maven Central (Maven caches the zip in ~/.m2)."""
    server = server_dir(c)
    if _is_version(server):
        return
    shutil.rmtree(server, ignore_errors=True)  # another version: its data goes with it
    beside = c.state_dir.with_name(c.state_dir.name.removesuffix("-test") if c.name == "test"
                                   else c.state_dir.name + "-test") / "keycloak" / "server"
    if _is_version(beside) and (beside / "data" / "h2").is_dir():  # h2 appears once augmentation is done
        print(f"keycloak: copying the distribution from {beside} ...", flush=True)
        shutil.copytree(beside, server, symlinks=True,
                        ignore=lambda folder, _: ["data"] if folder == str(beside) else [])
        return
    mvn = require("mvn", "install Maven (apt-get install maven)")
    unpack = c.keycloak_dir / "unpack"
    shutil.rmtree(unpack, ignore_errors=True)
    print(f"keycloak: fetching {ARTIFACT} with Maven into {server} ...", flush=True)
    done = subprocess.run([mvn, "-q", "-B", "dependency:unpack", f"-Dartifact={ARTIFACT}",
                           f"-DoutputDirectory={unpack}"], cwd=c.keycloak_dir, capture_output=True, text=True)
    if done.returncode != 0:
        raise StackError(f"keycloak: mvn failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    (unpack / f"keycloak-{VERSION}").rename(server)
    shutil.rmtree(unpack)


def running_pid(c: StackConfig) -> int | None:
    """Pid of this stack's Keycloak if it is alive (kc.sh, or the JVM it became)."""
    return processes.running_pid(c.keycloak_dir / "keycloak.pid", str(server_dir(c)))


def _realm_digest() -> str:
    return hashlib.sha256(REALM_FILE.read_bytes()).hexdigest()


def _prepare_data(c: StackConfig) -> None:
    """The realm file into data/import; the local data dropped if it was made from another realm file."""
    data, marker = server_dir(c) / "data", c.keycloak_dir / "realm.sha256"
    if (data / "h2").exists() and (not marker.exists() or marker.read_text().strip() != _realm_digest()):
        shutil.rmtree(data / "h2")
        print(f"keycloak: {REALM_FILE.name} changed since it was imported: local data dropped, realm re-imported",
              flush=True)
    (data / "import").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REALM_FILE, data / "import" / REALM_FILE.name)
    marker.write_text(_realm_digest() + "\n")


def launch(c: StackConfig) -> None:
    """Spawn Keycloak (does not wait: see wait_ready); fails first if one of its ports is taken."""
    require_free(c, "keycloak")
    c.keycloak_dir.mkdir(parents=True, exist_ok=True)
    resolve_distribution(c)
    _prepare_data(c)
    env = {**os.environ, "KC_BOOTSTRAP_ADMIN_USERNAME": ADMIN_USERNAME, "KC_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
           "JAVA_OPTS_KC_HEAP": HEAP, "JAVA_OPTS_APPEND": JIT}
    processes.spawn(
        ["/bin/sh", str(server_dir(c) / "bin" / "kc.sh"), "start-dev", f"--http-host={HOST}",
         f"--http-port={c.keycloak_port}", f"--http-management-port={c.keycloak_management_port}",
         f"--hostname={c.keycloak_url}", "--health-enabled=true", "--import-realm"],
        c.keycloak_dir / "keycloak.pid", c.keycloak_dir / "keycloak.log", env)


def discovery(c: StackConfig) -> dict[str, Any] | None:
    """The realm's OpenID Connect discovery document, or None if it is not served (yet)."""
    try:
        with urllib.request.urlopen(f"{issuer(c)}/.well-known/openid-configuration", timeout=3) as answer:
            document: dict[str, Any] = json.load(answer)
            return document
    except (OSError, ValueError):
        return None


def management_ready(c: StackConfig) -> bool:
    """The management interface's readiness probe answers UP."""
    url = f"http://{HOST}:{c.keycloak_management_port}/health/ready"
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            health: dict[str, Any] = json.load(answer)
            return health.get("status") == "UP"
    except (OSError, ValueError):
        return False


def healthy(c: StackConfig) -> bool:
    """This stack's Keycloak runs and serves the realm under the expected issuer."""
    document = discovery(c) if running_pid(c) else None
    return document is not None and document.get("issuer") == issuer(c)


def wait_ready(c: StackConfig, timeout: float = 240) -> None:
    """Until the realm's discovery document is served. The first start of a stack augments the
    distribution and creates the database (about a minute on 2 busy cores); later ones take less."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if processes.exited(c.keycloak_dir / "keycloak.pid", str(server_dir(c))):
            raise StackError(f"keycloak: exited during startup; see {c.keycloak_dir / 'keycloak.log'}")
        if healthy(c):
            return
        time.sleep(0.5)
    raise StackError(f"keycloak: not ready after {timeout:.0f}s; see {c.keycloak_dir / 'keycloak.log'}")


def start(c: StackConfig) -> bool:
    """Start Keycloak unless this stack's runs; True if started. Waits until the realm is served."""
    started = not running_pid(c)
    if started:
        launch(c)
    wait_ready(c)
    return started


def stop(c: StackConfig) -> int | None:
    """SIGTERM to kc.sh and its JVM (Quarkus shuts down gracefully), SIGKILL after 30 s; the pid if it ran."""
    return processes.terminate(c.keycloak_dir / "keycloak.pid", str(server_dir(c)), grace=30, group=True)


def purge(c: StackConfig) -> None:
    """Drop the realm's data (users created since the import included); the distribution stays."""
    shutil.rmtree(server_dir(c) / "data", ignore_errors=True)
    (c.keycloak_dir / "realm.sha256").unlink(missing_ok=True)
