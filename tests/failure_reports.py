"""A pytest plugin (tests/conftest.py loads it): test reports are made, and test modules
collected, with the garbage collector paused.

To show a failure, pytest parses the failing test's source (`ast.parse`); collecting a module,
its assertion rewriter parses the module. On CPython 3.11 before 3.11.8 a garbage collection
during such a parse can run a finalizer that parses too — asyncio logging a task's exception
that was never retrieved formats its traceback, which parses the line to place its carets —
and the nested parse resets the depth counter the outer one checks: `SystemError: AST
constructor recursion depth mismatch` (python/cpython#106905, fixed by #113476 in 3.11.8;
pytest-dev/pytest#10874). pytest ends the whole run on it with INTERNALERROR and prints no
summary, so every failure of the run goes unnamed (CI, 2026-12-03: "306 passed, 4 errors" and
nothing else). The test venv runs the machine's 3.11.7; on 3.11.8 or later this plugin can go.
"""

import gc
from collections.abc import Generator
from typing import TypeVar

import pytest

R = TypeVar("R")


def _without_garbage_collection() -> Generator[None, R, R]:
    """A hook wrapper's body: the hooks inside it run with the garbage collector paused;
    what became garbage meanwhile is collected once it is resumed."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return (yield)
    finally:
        if gc_was_enabled:
            gc.enable()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A setup's, call's or teardown's report, its failure's source parsed without a collection."""
    return (yield from _without_garbage_collection())


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """A collector's report: its modules imported (and rewritten) and its errors' sources parsed
    without a collection."""
    return (yield from _without_garbage_collection())
