"""A pytest plugin (tests/conftest.py loads it): a failure's report is made with the garbage
collector paused.

To show a failure, pytest parses the failing test's source (`ast.parse`). On CPython 3.11 a
collection during that parse can run a finalizer that parses too — asyncio logging a task's
exception that was never retrieved formats its traceback, which parses the line to place its
carets — and the nested parse resets the depth counter the outer one checks: `SystemError:
AST constructor recursion depth mismatch` (python/cpython#106905, pytest-dev/pytest#10874).
pytest ends the whole run on it with INTERNALERROR and prints no summary, so every failure
of the run goes unnamed (CI, 2026-12-03: "306 passed, 4 errors" and nothing else). Nothing
is collected while the report is made; what was garbage is collected right after.
"""

import gc
from collections.abc import Generator
from typing import Any

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    collecting = gc.isenabled()
    gc.disable()
    try:
        return (yield)
    finally:
        if collecting:
            gc.enable()
