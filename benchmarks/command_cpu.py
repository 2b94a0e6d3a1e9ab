"""The service's CPU time per HTTP command, a figure quick to repeat on a busy machine:
`python -m benchmarks.command_cpu [--service distribution] [--requests 2000] [--concurrency 16]`.

The same service process, setup and commands as benchmarks/command_latency.py, but a closed
loop (`concurrency` requests in flight) instead of a steady rate, and what is reported is
the CPU the service process used (user + system, from /proc) per request: it depends far
less on what else runs on the machine than a latency does. The client's own CPU per request
(front_door.py's) is given beside it. Also the Postgres transactions
per request (pg_stat_database) and the requests per second the loop reached.
"""

import argparse
import asyncio
import os
import time
from typing import Any

import asyncpg

from benchmarks.command_latency import LOADS
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
                    cpu, wall = cpu_seconds(process.process.pid), time.perf_counter()
                    own = time.process_time()
                    await run(warmup, requests)
                    own = time.process_time() - own
                    wall, cpu = time.perf_counter() - wall, cpu_seconds(process.process.pid) - cpu
                    await asyncio.sleep(0.6)  # pg_stat's counters are flushed at most every 0.5 s
                    xacts = await conn.fetchval("SELECT xact_commit FROM pg_stat_database WHERE datname = "
                                                "current_database()") - xacts
            finally:
                await conn.close()
    return {"service": service, "requests": requests, "service_cpu_us_per_request": round(cpu / requests * 1e6),
            "client_cpu_us_per_request": round(own / requests * 1e6), "requests_per_s": round(requests / wall), "db_commits_per_request": round(xacts / requests, 2),
            "refused": refused}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--service", choices=[n for n, load in LOADS.items() if load.people], default="distribution")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    print(asyncio.run(measure(args.service, args.requests, args.concurrency)))
