"""What the redirect answers when its database fails it: the database away (a transient
fault, retried first as the API retries a query) is 503 `unavailable` with `Retry-After`;
a bug is 500 `internal_error`; both as problem documents, never a bare 500."""

import contextlib
import json

import asyncpg
import pytest

from services.distribution.config import DistributionSettings, DistributionTopics
from services.distribution.redirect import Redirect

CODE = "a" * 16


class FailingPool:
    """Every connection it hands out fails its query with `error`; counts the attempts."""

    def __init__(self, error: Exception) -> None:
        self.error, self.attempts = error, 0

    @contextlib.asynccontextmanager
    async def acquire(self):
        self.attempts += 1
        yield self

    async def fetchrow(self, *args):
        raise self.error


async def request(redirect: Redirect) -> tuple[int, dict[bytes, bytes], dict]:
    """A GET of a well-formed code: (status, headers, the problem document)."""
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": f"/r/{CODE}", "headers": [], "client": ("203.0.113.9", 1)}
    await redirect(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], dict(sent[0]["headers"]), json.loads(body)


@pytest.mark.parametrize("error", [
    ConnectionRefusedError(111, "connection refused"),  # the database stopped: acquiring a connection fails
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.exceptions.InternalClientError("cannot switch to state 12; another operation is in progress"),
])
async def test_the_database_away_is_retried_then_503_with_retry_after(error):
    pool = FailingPool(error)
    status, headers, problem = await request(Redirect(DistributionSettings(), DistributionTopics(), lambda: pool))
    assert (status, problem["reason"], headers[b"retry-after"]) == (503, "unavailable", b"5")
    assert headers[b"content-type"] == b"application/problem+json"
    assert pool.attempts > 1  # retried before giving up


async def test_a_bug_is_a_500_problem_document_tried_once(caplog):
    pool = FailingPool(asyncpg.exceptions.UndefinedColumnError("column s.code does not exist"))
    status, _, problem = await request(Redirect(DistributionSettings(), DistributionTopics(), lambda: pool))
    assert (status, problem["reason"], pool.attempts) == (500, "internal_error", 1)
    assert "UndefinedColumnError" in caplog.text and "s.code" not in caplog.text  # logged by type, never its message


async def test_before_the_service_started_it_is_503_with_retry_after():
    status, headers, problem = await request(Redirect(DistributionSettings(), DistributionTopics(), lambda: None))
    assert (status, problem["reason"], headers[b"retry-after"]) == (503, "unavailable", b"5")
