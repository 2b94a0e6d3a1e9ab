"""The service's CPU time per HTTP command, a figure quick to repeat on a busy machine:
`python -m benchmarks.command_cpu [--service distribution] [--requests 2000] [--concurrency 16]`;
for curation, whose commands come on Kafka, `--service curation [--requests 5000] [--rate 500]`
sends them at that steady rate (command_latency.py's curation load) and reports the CPU of the
service and of Postgres (every backend of the stack) per command answered.

The same service process, setup and commands as benchmarks/command_latency.py, but a closed
loop (`concurrency` requests in flight) instead of a steady rate, and what is reported is
the CPU the service process used (user + system, from /proc) per request: it depends far
less on what else runs on the machine than a latency does. Beside it, per request: the
client's own CPU (front_door.py's), Postgres's (every backend), Kafka's and the whole
machine's (/proc/stat: what a steady rate needs in cores is rate × that), the Postgres
transactions (pg_stat_database) and the requests per second the loop reached.
"""

import argparse
import asyncio
import os
import time
from typing import Any

import asyncpg

from benchmarks.command_latency import LOADS, KafkaCommands
from benchmarks.cpu_clock import CpuClock
from benchmarks.front_door import FrontDoor
from benchmarks.scratch import scratch, served
from harness.issuer import TestIssuer

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


async def measure(service: str, requests: int = 2000, concurrency: int = 16, warmup: int = 200) -> dict[str, Any]:
    load = LOADS[service]
    assert load.people is not None, "an HTTP service"
    with TestIssuer() as issuer:
        async with scratch(load.topics_type) as bench, served(bench, service, identity=issuer.settings()) as process:
            conn = await asyncpg.connect(bench.config.service_dsn(bench.name))
            try:
                await load.setup(bench, conn)
                async with FrontDoor(issuer, process.port, connections=concurrency) as door:
                    door.sign_in(load.people(n) for n in range(load.count))
                    refused: dict[str, int] = {}

                    async def run(first: int, count: int) -> None:
                        queue = iter(range(first, first + count))

                        async def worker() -> None:
                            for n in queue:
                                c = load.command(n)
                                response = await door.post(c.who, c.path, c.body)
                                if not response.is_success:
                                    key = f"{response.status_code} {response.json().get('reason')}"
                                    refused[key] = refused.get(key, 0) + 1

                        await asyncio.gather(*(worker() for _ in range(concurrency)))

                    await run(0, warmup)
                    xacts = await conn.fetchval("SELECT xact_commit FROM pg_stat_database WHERE datname = "
                                                "current_database()")
                    clock, wall = CpuClock(bench.config, {service: process.process.pid}), time.perf_counter()
                    await run(warmup, requests)
                    wall, used = time.perf_counter() - wall, clock.seconds()
                    await asyncio.sleep(0.6)  # pg_stat's counters are flushed at most every 0.5 s
                    xacts = await conn.fetchval("SELECT xact_commit FROM pg_stat_database WHERE datname = "
                                                "current_database()") - xacts
            finally:
                await conn.close()
    per_request = {name: round(seconds / requests * 1e6) for name, seconds in used.items()}
    return {"service": service, "requests": requests, "service_cpu_us_per_request": per_request[service],
            "client_cpu_us_per_request": per_request["load_generator"],
            "postgres_cpu_us_per_request": per_request["postgres"], "kafka_cpu_us_per_request": per_request["kafka"],
            "machine_cpu_us_per_request": per_request["machine"],
            "requests_per_s": round(requests / wall), "db_commits_per_request": round(xacts / requests, 2),
            "loadavg_1m": round(os.getloadavg()[0], 2), "refused": refused}


async def measure_kafka(service: str, commands: int = 5000, rate: int = 500, warmup: int = 500) -> dict[str, Any]:
    """CPU per command of a service whose commands come on Kafka (curation), at `rate` a second."""
    load = LOADS[service]
    assert load.people is None, "a service commanded on Kafka"
    async with scratch(load.topics_type) as bench, served(bench, service) as process:
        conn = await asyncpg.connect(bench.config.service_dsn(bench.name))
        try:
            await load.setup(bench, conn)
            sent = KafkaCommands(bench.config.kafka_bootstrap, bench.topics, load.command)
            await sent.start()
            await sent.send(rate, max(1, warmup // rate))
            while sent.sent:  # the warm-up answered before the clock starts
                await asyncio.sleep(0.1)
            sent.latencies.clear()
            sent.command = lambda n: load.command(n + warmup)  # fresh item ids
            clock = CpuClock(bench.config, {service: process.process.pid})
            started = time.perf_counter()
            await sent.send(rate, max(1, commands // rate))
            latencies, unanswered = await sent.finish(wait=120)
            wall, used = time.perf_counter() - started, clock.seconds()
        finally:
            await conn.close()
    done = len(latencies)
    return {"service": service, "via": "kafka", "commands": done, "unanswered": unanswered,
            "service_cpu_us_per_command": round(used[service] / done * 1e6),
            "postgres_cpu_us_per_command": round(used.get("postgres", 0.0) / done * 1e6),
            "commands_per_s": round(done / wall), "loadavg_1m": round(os.getloadavg()[0], 2)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--service", choices=list(LOADS), default="distribution")
    parser.add_argument("--requests", type=int, default=None, help="HTTP: 2000; Kafka: 5000")
    parser.add_argument("--concurrency", type=int, default=16, help="HTTP: requests in flight")
    parser.add_argument("--rate", type=int, default=500, help="Kafka: commands a second")
    args = parser.parse_args()
    if LOADS[args.service].people is None:
        print(asyncio.run(measure_kafka(args.service, args.requests or 5000, args.rate)))
    else:
        print(asyncio.run(measure(args.service, args.requests or 2000, args.concurrency)))
