"""Which faults are transient (retried) and which are not (dead-lettered)."""

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError, RequestTimedOutError
from pydantic import BaseModel, ValidationError

from services.runtime.retry import backoff, is_transient, retry_transient


class Model(BaseModel):
    n: int


@pytest.mark.parametrize("error", [
    ConnectionRefusedError(), TimeoutError(), asyncpg.exceptions.ConnectionDoesNotExistError(),
    asyncpg.exceptions.AdminShutdownError(), asyncpg.exceptions.CannotConnectNowError(),
    asyncpg.exceptions.SerializationError(), asyncpg.exceptions.DeadlockDetectedError(),
    KafkaConnectionError(), RequestTimedOutError(),
])
def test_faults_of_the_infrastructure_are_transient(error):
    assert is_transient(error)


def test_bad_input_and_bugs_are_not_transient():
    with pytest.raises(ValidationError) as invalid:
        Model(n="x")
    for error in (invalid.value, ValueError(), KeyError("k"), asyncpg.exceptions.UniqueViolationError(),
                  MessageSizeTooLargeError()):
        assert not is_transient(error), error


def test_backoff_grows_and_is_capped():
    assert all(0 <= backoff(0) <= 0.05 for _ in range(100))
    assert all(0 <= backoff(30, cap=2.0) <= 2.0 for _ in range(100))


async def test_retry_gives_up_after_the_deadline_with_the_last_fault():
    calls = 0

    async def always_down() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionRefusedError("down")

    with pytest.raises(ConnectionRefusedError):
        await retry_transient(always_down, deadline_seconds=0.3)
    assert calls > 1


async def test_retry_does_not_retry_a_bug():
    calls = 0

    async def buggy() -> None:
        nonlocal calls
        calls += 1
        raise KeyError("oops")

    with pytest.raises(KeyError):
        await retry_transient(buggy, deadline_seconds=5)
    assert calls == 1
