"""A failing test, and a test module that cannot be imported, are reported as such even when
a garbage collection during pytest's parse of their source runs a finalizer that parses too
(tests/failure_reports.py): without the plugin, CPython 3.11 before 3.11.8 raises SystemError
there and pytest ends the run with INTERNALERROR (on a later interpreter these pass either way)."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A conftest for the runs below: garbage that parses when collected, at every allocation from
# `start()` until the report of what failed has been made.
GARBAGE_THAT_PARSES = '''
import ast
import gc

import pytest

chaining = [False]


class ParsesWhenCollected:
    """Garbage whose finalizer parses Python, as a traceback formatted while logging does on
    3.11, and leaves garbage of its kind behind, so a garbage collection always finds one."""

    def __del__(self):
        if chaining[0]:
            leave_garbage()
        ast.parse("x = 1")


def leave_garbage():
    garbage = ParsesWhenCollected()
    garbage.cycle = garbage


def start():
    chaining[0] = True
    leave_garbage()
    gc.set_threshold(1)


def stop():
    chaining[0] = False
    gc.set_threshold(700, 10, 10)
    gc.collect()


@pytest.fixture
def garbage_collection_at_every_allocation():
    start()
    yield
    stop()  # the call's report is made by now


def pytest_collectreport(report):
    if report.failed:
        stop()
'''

A_FAILING_TEST = """
def test_fails(garbage_collection_at_every_allocation):
    assert 1 == 2
"""

A_MODULE_FAILING_AT_IMPORT = """
import conftest

conftest.start()
raise RuntimeError("this module cannot be imported")
"""


@pytest.fixture
def runs_pytest(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester, its subprocesses able to import this project's `tests.failure_reports`."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    pytester.makeconftest(GARBAGE_THAT_PARSES)
    return pytester


def with_the_plugin(pytester: pytest.Pytester) -> pytest.RunResult:
    result = pytester.runpytest_subprocess("-p", "tests.failure_reports", "-p", "no:cacheprovider")
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    return result


def test_a_failure_is_reported_when_a_finalizer_parses_during_its_report(runs_pytest: pytest.Pytester) -> None:
    runs_pytest.makepyfile(test_failing=A_FAILING_TEST)

    result = with_the_plugin(runs_pytest)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["FAILED test_failing.py::test_fails - assert 1 == 2"])


def test_a_module_that_cannot_be_imported_is_reported_when_a_finalizer_parses(runs_pytest: pytest.Pytester) -> None:
    runs_pytest.makepyfile(test_unimportable=A_MODULE_FAILING_AT_IMPORT)

    result = with_the_plugin(runs_pytest)

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["ERROR test_unimportable.py - RuntimeError: this module cannot be imported"])
