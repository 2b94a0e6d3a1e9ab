"""What every benchmark sets up and removes again: the running stack, a login role with a
schema of its own, and fresh topics (plus that role's dead-letter topic)."""

import asyncio
import json
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from deploy.local import stack
from deploy.local.config import StackConfig
from deploy.local.provision import drop_role, provision_role
from harness.processes import free_port, ready
from services.runtime.identity import OidcSettings


@dataclass(frozen=True)
class Scratch:
    config: StackConfig
    name: str  # role, schema and service name
    topics: Any  # an instance of the service's Topics dataclass, every name fresh

    def settings(self, settings_type: Callable[..., Any], **extra: Any) -> Any:
        return settings_type(service=self.name, database_url=self.config.service_dsn(self.name),
                             kafka_bootstrap_servers=self.config.kafka_bootstrap, http_port=1, **extra)


@asynccontextmanager
async def scratch(topics_type: type, partitions: int = 6) -> AsyncIterator[Scratch]:
    config = StackConfig.from_env()
    stack.up(config)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    topics = topics_type(*[f"bench.{f.name}.{name}" for f in fields(topics_type)])
    made = [*vars(topics).values(), f"advocacy.{name}.deadletter.v1"]
    admin = await asyncpg.connect(config.admin_dsn)
    kafka = AIOKafkaAdminClient(bootstrap_servers=config.kafka_bootstrap)
    await kafka.start()
    try:
        await provision_role(admin, config.database, name)
        await kafka.create_topics([NewTopic(t, partitions, 1) for t in made])
        yield Scratch(config, name, topics)
    finally:
        await kafka.delete_topics(made)
        await kafka.close()
        await drop_role(admin, name)
        await admin.close()


LOGS = Path(__file__).resolve().parents[1] / "bench" / "logs"

# Peak resident memory per service over every `served` process of this benchmark run.
PEAK_RSS_MB: dict[str, float] = {}


@dataclass
class ServedProcess:
    process: subprocess.Popen[bytes]
    port: int
    management_port: int  # /ready, /metrics

    def ready(self) -> bool:
        return ready(self.port, self.management_port)

    def peak_rss_mb(self) -> float:
        """The kernel's high-water mark of the process's resident set (VmHWM), in MiB."""
        with open(f"/proc/{self.process.pid}/status") as status:
            kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        return round(kib / 1024, 1)


@asynccontextmanager
async def served(bench: Scratch, service: str, identity: OidcSettings | None = None, own_session: bool = False,
                 **settings: Any) -> AsyncIterator[ServedProcess]:
    """Runs `service` as its own process on the scratch schema and topics until ready, its
    HTTP API trusting `identity` (None: nobody signs in); on exit records its peak resident
    memory in PEAK_RSS_MB and stops it with SIGTERM."""
    port, management_port = free_port(), free_port()
    spec = {"settings": {"service": bench.name, "database_url": bench.config.service_dsn(bench.name),
                         "kafka_bootstrap_servers": bench.config.kafka_bootstrap, "http_port": port,
                         "management_port": management_port, **settings},
            "topics": vars(bench.topics),
            "identity": identity.model_dump(mode="json") if identity else None}
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / f"{service}.log", "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "benchmarks.serve", service, json.dumps(spec)],
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=own_session)
    served = ServedProcess(process, port, management_port)
    try:
        while not await asyncio.to_thread(served.ready):
            if process.poll() is not None:
                raise RuntimeError(f"{service} exited with {process.returncode} before it was ready: "
                                   f"see {LOGS / service}.log")
            await asyncio.sleep(0.2)
        yield served
    finally:
        PEAK_RSS_MB[service] = max(PEAK_RSS_MB.get(service, 0.0), served.peak_rss_mb())
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 30)

