"""Visitors clicking the tracked links through the real redirect while replicas die.

Every attempt comes from a visitor of its own (its own forwarded address), so metrics must
hold exactly one click per visitor: a click counted twice shows as 2. A 302 is a click the
redirect recorded. A dropped connection or a 5xx is ambiguous — the click may have been
recorded just before the process died — so it is retried as a new visitor, and afterwards
resolved by looking for that visitor's hash. A refused connection reached no process and is
retried as it was.
"""

import itertools
import random
import threading
import time
import urllib.error
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ops.scenario.clicks import BOTS, BROWSERS, click
from services.distribution.links import visitor_hash


@dataclass(frozen=True)
class Attempt:
    share_id: str
    address: str
    agent: str
    day: date  # UTC, when sent (the redirect dates the click on its own clock)
    answer: str  # "302", "ambiguous", or the unexpected status

    @property
    def bot(self) -> bool:
        return self.agent in BOTS

    def visitors(self, keys: dict[date, bytes]) -> set[str]:
        """The visitor hash the redirect stores, for either day the click may fall on (`keys`:
        each day's key, links.day_key of CLICK_SECRET and the day's salt)."""
        days = (self.day, self.day + timedelta(days=1))
        return {visitor_hash(keys[d], self.share_id, self.address, self.agent) for d in days if d in keys}


def plan(shares: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, str, str]]:
    """(share id, code, user agent): 0–4 clicks a link, one in ten by a bot."""
    return [(share_id, code, rng.choice(BOTS) if rng.random() < 0.1 else rng.choice(BROWSERS))
            for share_id, code in shares for _ in range(rng.randint(0, 4))]


class Clicker:
    """`ports()`: the distribution replicas' HTTP ports that are up now."""

    def __init__(self, ports: Callable[[], list[int]], network_prefix: int) -> None:
        self.ports = ports
        self.addresses = (f"10.{network_prefix}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))
        self.lock = threading.Lock()
        self.tries = 0

    def click_all(self, planned: list[tuple[str, str, str]]) -> list[Attempt]:
        with ThreadPoolExecutor(max_workers=6) as pool:
            return [a for attempts in pool.map(lambda c: self._until_answered(*c), planned) for a in attempts]

    def _until_answered(self, share_id: str, code: str, agent: str) -> list[Attempt]:
        attempts: list[Attempt] = []
        address = self._new_address()
        while True:
            live = self.ports()
            if not live:
                time.sleep(0.3)
                continue
            with self.lock:
                self.tries += 1
            day = datetime.now(UTC).date()
            try:
                answer = str(click(f"http://127.0.0.1:{random.choice(live)}/r/{code}", address, agent))
            except urllib.error.URLError as error:
                if isinstance(error.reason, ConnectionRefusedError):
                    time.sleep(0.3)
                    continue
                answer = "ambiguous"
            except OSError:  # reset, closed mid-response, timed out
                answer = "ambiguous"
            if answer.startswith("5"):
                answer = "ambiguous"
            attempts.append(Attempt(share_id, address, agent, day, answer))
            if answer != "ambiguous":
                return attempts
            address = self._new_address()
            time.sleep(0.3)

    def _new_address(self) -> str:
        with self.lock:
            return next(self.addresses)


def landed(attempts: list[Attempt], recorded: set[tuple[str, str]], keys: dict[date, bytes]
           ) -> dict[tuple[str, str], bool]:
    """(share, visitor) -> bot, for every click the redirect must have recorded: those it
    answered with 302, and the ambiguous ones whose visitor shows up in `recorded`."""
    expected = {}
    for a in attempts:
        found = [(a.share_id, v) for v in a.visitors(keys) if (a.share_id, v) in recorded]
        if a.answer == "302" and not found:  # lost: it must show as missing
            found = [(a.share_id, min(a.visitors(keys), default=f"no salt for {a.day}"))]
        if a.answer in ("302", "ambiguous"):
            expected |= dict.fromkeys(found, a.bot)
    return expected
