"""The tails under the platform's own load (issue #19): `python -m benchmarks.tails
[--seconds 20] [--events 400000] [--processes 1|2|both] [--metrics-nice N]`.

Four loads (and a small fifth, metrics' withdrawals) run at the same time, for the same
window of `--seconds`, each service as its own process on a scratch schema and topics of its
own, in a session of its own as the local stack starts it (so each is a scheduling group of its own where the kernel groups by
session, and metrics runs at its CPU_NICE as on `make run`, 0 by default, ADR 0029;
`--metrics-nice 10` runs it yielding the cores). wrk and this load generator run in the benchmark's
own session, at normal priority, on the same cores: their CPU is reported
(`tails_cpu_pct`: wrk, load_generator), not left out:
- metrics ingests a topic pre-filled with `--events` mixed events (metrics_ingestion's
  generator), at full speed: it is started last and the window opens once it has counted
  its first batch; the events/s it counts within the window are reported
  (`tails_ingest_events_per_s`; `tails_ingest_drained` if the topic ran dry before the end),
  and it is stopped when the window closes;
- wrk requests a tracked link of distribution, /r/<code>, from 32 connections (redirect.py):
  requests/s and p99 (`tails_redirect_rps`, `tails_redirect_p99_ms`), every one writing a
  click through distribution's outbox;
- 20 withdrawals a second reach the same distribution on Kafka, 1,000 people with a share
  scheduled for tomorrow prepared beforehand over HTTP, timed until distribution committed
  each (withdrawal.py's measurement; `tails_withdrawal_p50_ms`, `tails_withdrawal_p99_ms`);
  withdrawal.py's own background of 1,000 consent/directory events/s is not sent: here the
  redirect's load is the background;
- the same 20 withdrawals a second, of attribution (`share_attribution`), reach metrics, timed
  until metrics committed each (its inbox polled, as distribution's): metrics applies them
  at its CPU_NICE (`tails_metrics_withdrawal_p50_ms`, `_p99_ms`); metrics runs until the
  last is applied, which may be after the window;
- 500 commands a second to curation on Kafka, each timed to its event (command_latency.py's
  curation load; `tails_command_p50_ms`, `tails_command_p99_ms`); `tails_command_answered_per_s`:
  events that came within the window, a second (below the rate, curation fell behind);
  commands still unanswered 120 s after the window are counted (`tails_command_unanswered`),
  not timed.
Targets (DESIGN.md, issue #19), on 2 cores: withdrawal p99 <= 250 ms and command -> event
p99 <= 200 ms at 500/s while the other two loads run.

Then the same again with two processes of distribution (the withdrawal's consumer and the
redirect's server): the same consumer group on the same schema and topics, splitting the
partitions; wrk's connections split between them as a load balancer would (rps summed,
the larger p99 reported). Its figures carry the suffix `_2proc`. On one machine a second
process adds no core: it shows whether one process's event loop, not the cores, was the limit.

For each run `tails_cpu_pct` gives the CPU each process used over the window, in percent
of one core (the machine has cpu_count x 100): the services, Postgres (every backend),
Kafka, Keycloak (started with the stack, idle), wrk, this load generator, the machine's
total and `others` (whatever else runs on the machine meanwhile). `tails_runqueue_wait_pct`
gives the time their threads were ready to run but waited for a core
(/proc/<pid>/task/*/schedstat, summed over threads), in percent of the window: where it is
large beside the CPU used, the cores are the limit, not the process. `tails_loadavg_1m` is
the load average at the window's end.
"""

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from benchmarks.audience import prepare
from benchmarks.command_latency import KafkaCommands, curation_command, summary
from benchmarks.cpu_clock import CpuClock
from benchmarks.front_door import FrontDoor
from benchmarks.metrics_ingestion import committed_offsets, fill, mixed_events, until
from benchmarks.redirect import wrk
from benchmarks.scratch import scratch, served
from benchmarks.withdrawal import PEOPLE, WITHDRAWALS_PER_S, check_effective, withdraw
from harness.issuer import TestIssuer
from schemas.consent import Purpose
from services.curation.config import CurationTopics
from services.distribution.config import DistributionTopics
from services.metrics.config import MetricsTopics

COMMANDS_PER_S, CONNECTIONS = 500, 32
_DRAIN_SECONDS = 120  # how long the commands sent in the window are waited for after it


async def measure(events: int = 400_000, seconds: int = 20, distributions: int = 1,
                  metrics_nice: int | None = None) -> dict[str, Any]:
    """The four loads together for `seconds`, with `distributions` processes of distribution."""
    assert WITHDRAWALS_PER_S * seconds < PEOPLE, "more withdrawals than prepared people"
    suffix = "" if distributions == 1 else f"_{distributions}proc"
    with TestIssuer() as issuer:
        async with AsyncExitStack() as stack:
            metrics_bench = await stack.enter_async_context(scratch(MetricsTopics))
            distribution_bench = await stack.enter_async_context(scratch(DistributionTopics))
            curation_bench = await stack.enter_async_context(scratch(CurationTopics))
            config = metrics_bench.config
            bootstrap = config.kafka_bootstrap

            messages, _ = mixed_events(events)
            await fill(bootstrap, metrics_bench.topics.distribution_events, messages)
            del messages

            distribution = [await stack.enter_async_context(
                served(distribution_bench, "distribution", identity=issuer.settings(), own_session=True))
                for _ in range(distributions)]
            door = await stack.enter_async_context(FrontDoor(issuer, distribution[0].port))
            conn = await asyncpg.connect(config.service_dsn(distribution_bench.name))
            stack.push_async_callback(conn.close)
            people = await prepare(bootstrap, distribution_bench.topics, conn, PEOPLE,
                                   datetime.now(UTC) + timedelta(days=1), door=door)
            withdrawing = people[: WITHDRAWALS_PER_S * seconds]
            # The link of someone who does not withdraw (the redirect would serve a cancelled share too).
            code = await conn.fetchval("SELECT code FROM shares WHERE advocate_id = $1", people[-1])

            processes = {"distribution" if n == 0 else f"distribution_{n + 1}": d.process.pid
                         for n, d in enumerate(distribution)}
            processes["curation"] = (await stack.enter_async_context(
                served(curation_bench, "curation", identity=issuer.settings(), own_session=True))).process.pid
            commands = KafkaCommands(bootstrap, curation_bench.topics, curation_command)
            await commands.start()

            # Metrics' progress: the records its consumer group has committed (after each batch's
            # transaction, ADR 0026), read from the broker; counting the tables took from metrics.
            committed = await stack.enter_async_context(committed_offsets(
                bootstrap, f"{metrics_bench.name}.{metrics_bench.topics.distribution_events}"))
            consenting = await asyncpg.connect(config.service_dsn(metrics_bench.name))
            stack.push_async_callback(consenting.close)
            metrics = AsyncExitStack()  # stopped with the window: the backlogs then drain without it
            stack.push_async_exit(metrics)
            metrics_process = (served(metrics_bench, "metrics", own_session=True) if metrics_nice is None
                               else served(metrics_bench, "metrics", own_session=True, cpu_nice=metrics_nice))
            processes["metrics"] = (await metrics.enter_async_context(metrics_process)).process.pid
            await until(committed, lambda done: done > 0)

            # The window: everything starts now and sends for `seconds`.
            cpu = CpuClock(config, processes)
            redirects = [asyncio.create_task(wrk(f"http://127.0.0.1:{d.port}/r/{code}", seconds,
                                                 CONNECTIONS // distributions, threads=max(1, 2 // distributions)))
                         for d in distribution]
            withdrawals = asyncio.create_task(withdraw(bootstrap, distribution_bench.topics, conn, distribution_bench.name,
                                                       withdrawing))
            # The same rate of attribution withdrawals to metrics, which runs at its CPU_NICE (ADR 0029).
            attributions = asyncio.create_task(withdraw(
                bootstrap, metrics_bench.topics, consenting, metrics_bench.name,
                [f"adv-m-{n:05d}" for n in range(len(withdrawing))],
                purpose=Purpose.SHARE_ATTRIBUTION))
            sending = asyncio.create_task(timed(commands.send(COMMANDS_PER_S, seconds)))
            ingest_per_s, drained = await ingest_rate(committed, events, seconds)
            redirected = await asyncio.gather(*redirects)  # wrk's end is the window's
            (used, waited), window = cpu.percent(), time.perf_counter() - cpu.started
            load_average = os.getloadavg()[0]
            answered_in_window = len(commands.latencies)
            unattributed = await attributions  # metrics still ingesting until the last is applied
            await metrics.aclose()
            sent_for = await sending
            latencies, unanswered = await commands.finish(wait=_DRAIN_SECONDS)
            withdrawn = await withdrawals
            await check_effective(conn, withdrawing)
    figures = {"ingest_events_per_s": round(ingest_per_s), "ingest_drained": drained,
               "redirect_rps": sum(r["redirect_rps"] for r in redirected),
               "redirect_p99_ms": max(r["redirect_p99_ms"] for r in redirected),
               "redirect_errors": sum(r["redirect_errors"] for r in redirected),
               **summary(withdrawn, "withdrawal_"), "withdrawals": len(withdrawn),
               **summary(unattributed, "metrics_withdrawal_"),
               **summary(latencies, "command_"), "command_rate_sent": round(COMMANDS_PER_S * seconds / sent_for),
               "command_answered_per_s": round(answered_in_window / window), "command_unanswered": unanswered,
               "loadavg_1m": round(load_average, 2), "cpu_pct": used, "runqueue_wait_pct": waited}
    return {f"tails_{key}{suffix}": value for key, value in figures.items()}


async def measure_both(events: int = 400_000, seconds: int = 20) -> dict[str, Any]:
    """One process of distribution, then two in its consumer group: both runs' figures."""
    return await measure(events, seconds) | await measure(events, seconds, distributions=2)


async def timed(work: Awaitable[Any]) -> float:
    started = time.perf_counter()
    await work
    return time.perf_counter() - started


async def ingest_rate(committed: Callable[[], Awaitable[int]], events: int, seconds: float) -> tuple[float, bool]:
    """Events/s metrics counts over the next `seconds` (`committed()`: the events its consumer
    group has committed, read every half second), and whether it ran out of events before the
    end (then the rate until it did)."""
    first, started = await until(committed, _at_once)
    progress, at = first, started
    while at < started + seconds and progress < events:
        await asyncio.sleep(min(0.5, max(0.0, started + seconds - at)))
        progress, at = await until(committed, _at_once)
    return (progress - first) / (at - started), progress >= events


def _at_once(done: int) -> bool:
    return True


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--metrics-nice", type=int, default=None)
    parser.add_argument("--processes", choices=["1", "2", "both"], default="both",
                        help="processes of distribution: one, two in its consumer group, or one run of each")
    args = parser.parse_args()
    run = measure_both(args.events, args.seconds) if args.processes == "both" else \
        measure(args.events, args.seconds, int(args.processes), args.metrics_nice)
    for key, value in asyncio.run(run).items():
        print(f"{key:<34} {value}")
