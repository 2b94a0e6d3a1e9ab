"""The bad-input run's settings: ADVOCACY_FULL_RUN=1 selects the full form (more generated
examples per topic, the bigger corpus); ADVOCACY_BAD_INPUT_SEED replays a run. The figures
go as JSON to $ADVOCACY_BAD_INPUT_FIGURES (default: bad-input-figures.json in the session's
tmp dir)."""

import json
import os
import random
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.bad_input.observe import Outcomes
from tests.e2e.signed_in import serve_issuer, signed_in_services  # noqa: F401  (fixtures: `issuer`, the services)

FULL = os.environ.get("ADVOCACY_FULL_RUN") == "1"


@dataclass(frozen=True)
class Run:
    tag: str  # every id of the run starts with it
    seed: int
    generated_per_topic: int
    full: bool
    timeout: float


@pytest.fixture
def run() -> Run:
    seed = int(os.environ.get("ADVOCACY_BAD_INPUT_SEED") or random.randrange(2**32))
    return Run(f"bi{uuid.uuid4().hex[:6]}", seed, 400 if FULL else 12, FULL, 900 if FULL else 240)


@pytest.fixture
async def outcomes(stack):
    """Dead letters and rejections from now on."""
    seen = await Outcomes(stack.kafka_bootstrap, stack.admin_dsn).start()
    try:
        yield seen
    finally:
        await seen.stop()


@pytest.fixture
def bad_input_figures(tmp_path_factory):
    written: dict = {}
    yield written
    if written:
        path = Path(os.environ.get("ADVOCACY_BAD_INPUT_FIGURES")
                    or tmp_path_factory.getbasetemp() / "bad-input-figures.json")
        path.write_text(json.dumps({"full_run": FULL, **written}, indent=2) + "\n")
        print(f"\nbad-input figures: {path}")
