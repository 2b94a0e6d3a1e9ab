"""A failing test is reported as failed even when a garbage collection during pytest's
parse of its source runs a finalizer that parses too (tests/failure_reports.py): without the
plugin, CPython 3.11 raises SystemError there and pytest ends the run with INTERNALERROR."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAILING_WITH_GARBAGE = '''
import ast
import gc

import pytest

chaining = [True]


class ParsesWhenCollected:
    """Garbage whose finalizer parses Python, as a traceback formatted while logging does on
    3.11, and leaves garbage of its kind behind, so a collection always finds one."""

    def __del__(self):
        if chaining[0]:
            leave_garbage()
        ast.parse("x = 1")


def leave_garbage():
    garbage = ParsesWhenCollected()
    garbage.cycle = garbage


@pytest.fixture
def collecting_at_every_allocation():
    thresholds = gc.get_threshold()
    leave_garbage()
    gc.set_threshold(1)
    yield
    chaining[0] = False
    gc.set_threshold(*thresholds)
    gc.collect()


def test_fails(collecting_at_every_allocation):
    assert 1 == 2
'''


def test_a_failure_is_reported_when_a_finalizer_parses_during_its_report(pytester: pytest.Pytester,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    pytester.makepyfile(test_failing=FAILING_WITH_GARBAGE)

    result = pytester.runpytest_subprocess("-p", "tests.failure_reports", "-p", "no:cacheprovider")

    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["FAILED test_failing.py::test_fails - assert 1 == 2"])
