"""The crash tests' rig: the four services as processes for the whole module (a replica
may be added), their HTTP APIs trusting the test issuer (tests/e2e/signed_in.py says why
not Keycloak), and `play_under(*faults)`, which plays a seeded stream of inputs while the
faults strike and returns what reconciliation found. Each run's figures are written as
JSON to $ADVOCACY_CHAOS_FIGURES (default: figures.json in the session's tmp dir).

ADVOCACY_FULL_RUN=1 plays the full form (over 20,000 inputs a run); without it, a
reduced one fit for every `make test`. ADVOCACY_CHAOS_SEED replays a run."""

import dataclasses
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from schemas.catalog import SERVICES
from services.distribution.links import day_key
from tests.e2e.crash import flow, inputs
from tests.e2e.crash.clicks import Clicker
from tests.e2e.crash.faults import Figures, Phases, running
from tests.e2e.crash.front_door import Answer, FrontDoor
from tests.e2e.crash.observed import Observed
from tests.e2e.crash.reconcile import Run
from tests.e2e.crash.stream import Stream
from tests.e2e.signed_in import serve_issuer  # noqa: F401  (the fixture `issuer`)
from tests.e2e.supervisor import Supervisor

FULL = os.environ.get("ADVOCACY_FULL_RUN") == "1"
CLICK_SECRET = "crash-test-click-secret"
PSEUDONYM_KEY = "crash-test-pseudonym-key"


@dataclass
class Outcome:
    figures: Figures
    differences: list[str]
    dead_letters: dict[str, int]  # per service, dead letters of this run's inputs
    unexpected_clicks: list[str]  # answers of the redirect other than 302 or a failure
    unexpected_answers: list[Answer]  # HTTP commands answered otherwise than their input implies
    ledger_intact: bool


@pytest.fixture(scope="module")
async def supervisor(stack, issuer, tmp_path_factory):
    rig = Supervisor(stack, tmp_path_factory.mktemp("crash-logs"), identity=issuer.settings(),
                     env={"CLICK_SECRET": CLICK_SECRET, "CONSENT_PSEUDONYM_KEY": PSEUDONYM_KEY})
    for name in SERVICES:
        rig.add(name)
    for name in SERVICES:
        rig.start(name)
    try:
        for name in SERVICES:
            await rig.until_ready(name)
        yield rig
    finally:
        rig.stop_all()


@pytest.fixture(scope="session")
def chaos_figures(tmp_path_factory):
    figures: dict[str, dict] = {}
    yield figures
    path = Path(os.environ.get("ADVOCACY_CHAOS_FIGURES") or tmp_path_factory.getbasetemp() / "figures.json")
    path.write_text(json.dumps({"full_run": FULL, "runs": figures}, indent=2) + "\n")
    print(f"\ncrash figures: {path}")


@pytest.fixture
def play_under(stack, supervisor, issuer, chaos_figures, request):
    """`await play_under(*faults)`: each fault is `fault(phases, figures, rng)`, a coroutine
    run alongside the stream, awaited to its end once every input is sent."""
    async def play(*faults) -> Outcome:
        seed = int(os.environ.get("ADVOCACY_CHAOS_SEED") or random.randrange(2**32))
        people, items = (2000, 16) if FULL else (100, 5)  # about 27,000 inputs a run, or 800
        plan = inputs.plan(people, items, seed)
        seen, figures = Observed(stack.admin_dsn, plan.tag), Figures()
        phases, rng, run = Phases(figures), random.Random(seed), Run(plan)
        def live(service: str) -> list[int]:
            return [r.port for r in supervisor.replicas.values() if r.service == service and r.alive]

        front_door = FrontDoor(issuer, live)
        stream = Stream(stack.kafka_bootstrap, seen, run, figures, phases, front_door,
                        Clicker(lambda: live("distribution"), seed % 200 + 20), seed, timeout=900 if FULL else 300)
        dead_before = await flow.dead_letter_ends(stack.kafka_bootstrap)
        try:
            async with running(phases, *(fault(phases, figures, rng) for fault in faults)):
                await stream.play(PSEUDONYM_KEY.encode())
            # Visitor hashes are keyed by each day's random salt, which distribution keeps for its day.
            keys = {r["day"]: day_key(CLICK_SECRET, bytes(r["salt"]))
                    for r in await seen.rows("SELECT day, salt FROM distribution.visitor_salts")}
            differences = await stream.settle(PSEUDONYM_KEY.encode(), keys)
            intact = await seen.ledger_intact()
            share_ids = [r["share_id"] for r in await seen.shares()]
            recorded = await seen.clicks(share_ids)
        except BaseException as error:
            error.add_note(f"replay with ADVOCACY_CHAOS_SEED={seed}")
            raise
        finally:
            await seen.close()
            await front_door.aclose()
            _count_http(figures, front_door)
        figures.seconds_total = figures.at()
        dead = await flow.dead_letters_about(stack.kafka_bootstrap, dead_before, [plan.tag, *share_ids])
        outcome = Outcome(figures, differences, dead,
                          sorted({a.answer for a in run.clicks if a.answer not in ("302", "ambiguous")}),
                          front_door.unexpected, intact)
        ambiguous = [a for a in run.clicks if a.answer == "ambiguous"]
        figures.clicks_recorded = sum(n for _, n in recorded.values())
        figures.ambiguous_clicks = len(ambiguous)
        figures.ambiguous_clicks_recorded = sum(
            1 for a in ambiguous if any((a.share_id, v) in recorded for v in a.visitors(keys)))
        chaos_figures[request.node.name] = {
            "seed": seed, **{k: v for k, v in dataclasses.asdict(figures).items() if k != "started"},
            "reconciliation": differences or "exact",
            "dead_letters": outcome.dead_letters, "ledger_intact": intact,
            "unexpected_answers": [str(a) for a in front_door.unexpected]}
        assert not FULL or figures.events_sent >= 20_000, "the full form sends at least 20,000 inputs a run"
        return outcome

    return play


def _count_http(figures: Figures, front_door: FrontDoor) -> None:
    tally = front_door.tally
    figures.http_commands, figures.http_tries = tally.commands, tally.tries
    figures.http_unanswered, figures.http_unreachable = tally.ambiguous, tally.unreachable
    figures.http_already_applied, figures.http_outcomes = tally.already_applied, dict(tally.outcomes)
    figures.inputs_tried += tally.tries
