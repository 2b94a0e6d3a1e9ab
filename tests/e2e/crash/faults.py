"""The faults, injected while the stream flows: services killed with SIGKILL at random
moments and started again, the broker or the database stopped and started, a replica
killed for good. Each records what it did in the run's figures."""

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.e2e.supervisor import Supervisor


@dataclass
class Figures:
    events_sent: int = 0  # distinct inputs: Kafka messages, HTTP commands and clicks answered
    inputs_tried: int = 0  # with every retry of a publication, an HTTP command or a click
    kills: list[str] = field(default_factory=list)
    restarts: int = 0
    broker_restarts: int = 0
    database_restarts: int = 0
    clicks_recorded: int = 0  # by metrics, at the end
    ambiguous_clicks: int = 0  # attempts without an answer (the process died, the database was away)
    ambiguous_clicks_recorded: int = 0
    http_commands: int = 0  # a person's commands over HTTP, each answered definitively
    http_tries: int = 0
    http_unanswered: int = 0  # tries cut off (dropped, reset, timed out) or answered 5xx: sent again, same key
    http_unreachable: int = 0  # tries that reached no process (refused, or none alive): sent again
    http_already_applied: int = 0  # retries of an applied command, answered 409 and not applied twice
    http_outcomes: dict[str, int] = field(default_factory=dict)  # "200", "404 item_not_in_feed" ...
    seconds_to_reconcile: float = 0.0  # after the last input was sent
    seconds_total: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # when each phase started, seconds from the start
    started: float = field(default_factory=time.monotonic)

    def at(self) -> float:
        return round(time.monotonic() - self.started, 1)


class Phases:
    """The stream announces its phases; a fault can wait for one to begin. `sent` is set
    once every input is sent: faults that repeat stop then."""

    def __init__(self, figures: Figures) -> None:
        self.figures = figures
        self.begun: dict[str, asyncio.Event] = {}
        self.sent = asyncio.Event()

    def begin(self, name: str) -> None:
        self.figures.phases[name] = self.figures.at()
        self.begun.setdefault(name, asyncio.Event()).set()

    async def wait(self, name: str) -> None:
        await self.begun.setdefault(name, asyncio.Event()).wait()


async def kill_at_random(supervisor: Supervisor, names: list[str], phases: Phases, rng: random.Random,
                         figures: Figures, every: tuple[float, float] = (2.0, 6.0),
                         down: tuple[float, float] = (0.2, 2.0)) -> None:
    """Until every input is sent: after a random pause, SIGKILL one of `names`, start it
    again after a random delay, and once it is ready go on."""
    while not await _set_within(phases.sent, rng.uniform(*every)):
        victim = rng.choice(names)
        supervisor.kill(victim)
        figures.kills.append(f"{figures.at()}s {victim}")
        await asyncio.sleep(rng.uniform(*down))
        await _restart(supervisor, victim, figures)


async def _set_within(event: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), seconds)
        return True
    except TimeoutError:
        return False


async def _restart(supervisor: Supervisor, name: str, figures: Figures) -> None:
    await supervisor.restart(name)
    figures.restarts += 1


async def restart_when(phases: Phases, phase: str, stop: Callable[[], object], start: Callable[[], object],
                       rng: random.Random, done: Callable[[], None], down: tuple[float, float] = (2.0, 5.0)) -> None:
    """Once `phase` has begun (and a random moment more), stop, wait, start again, `done()`."""
    await phases.wait(phase)
    await asyncio.sleep(rng.uniform(0.0, 0.5))
    await asyncio.to_thread(stop)
    await asyncio.sleep(rng.uniform(*down))
    await asyncio.to_thread(start)
    done()


@contextlib.asynccontextmanager
async def running(phases: Phases, *faults):
    """The faults as tasks alongside the block. When the block has sent every input, each
    fault is awaited to its end (a single one may still be under way: the settling waits
    for it); when the block fails, they are cancelled."""
    tasks = [asyncio.create_task(f) for f in faults]
    try:
        yield
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    phases.sent.set()
    await asyncio.gather(*tasks)
