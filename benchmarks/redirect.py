"""The tracked-link redirect under load: `python -m benchmarks.redirect [--seconds 10]`.

Distribution runs as its own process with one stored share (asked for over its HTTP API,
signed in); `wrk` (Debian's package:
apt-get install wrk) requests its link from 32 connections on loopback. Every request
resolves the stored code, writes a click event through the outbox and answers 302.
Target (DESIGN.md): at least 2,000 requests/s with p99 within 50 ms.
"""

import argparse
import asyncio
import re
import shutil
import subprocess

import asyncpg

from benchmarks.audience import prepare
from benchmarks.front_door import FrontDoor
from benchmarks.scratch import scratch, served
from harness.issuer import TestIssuer
from services.distribution.config import DistributionTopics

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _found(pattern: str, output: str, flags: int = 0) -> re.Match[str]:
    """`pattern`'s match in wrk's output; ValueError naming it if wrk printed no such line."""
    found = re.search(pattern, output, flags)
    if found is None:
        raise ValueError(f"wrk's output has no line matching {pattern!r}:\n{output}")
    return found


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/s and the 99th percentile latency from `wrk --latency` output."""
    rps = float(_found(r"Requests/sec:\s+([\d.]+)", output).group(1))
    value, unit = _found(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE).groups()
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return {"redirect_rps": round(rps), "redirect_p99_ms": round(float(value) * _UNIT_MS[unit], 1),
            "redirect_errors": int(non_2xx.group(1)) if non_2xx else 0}


async def measure(seconds: int = 10, connections: int = 32) -> dict[str, float]:
    if not shutil.which("wrk"):
        raise RuntimeError("wrk not found: apt-get install wrk")
    with TestIssuer() as issuer:  # the one share is asked for over HTTP, signed in
        async with (scratch(DistributionTopics) as bench,
                    served(bench, "distribution", identity=issuer.settings()) as distribution,
                    FrontDoor(issuer, distribution.port) as door):
            conn = await asyncpg.connect(bench.config.service_dsn(bench.name))
            try:
                await prepare(bench.config.kafka_bootstrap, bench.topics, conn, people=1, door=door)
                code = await conn.fetchval("SELECT code FROM shares")
                figures = await wrk(f"http://127.0.0.1:{distribution.port}/r/{code}", seconds, connections)
            finally:
                await conn.close()
    return figures


async def wrk(url: str, seconds: int, connections: int = 32, threads: int = 2) -> dict[str, float]:
    """`wrk` requesting `url` from `connections` kept-alive connections for `seconds`: parse_wrk's figures."""
    if not shutil.which("wrk"):
        raise RuntimeError("wrk not found: apt-get install wrk")
    run = await asyncio.to_thread(subprocess.run, [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
        "-H", "User-Agent: Mozilla/5.0 (benchmark)", url], capture_output=True, text=True, check=True)
    return parse_wrk(run.stdout)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    for key, value in asyncio.run(measure(args.seconds, args.connections)).items():
        print(f"{key:<24} {value}")
