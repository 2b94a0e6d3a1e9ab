"""Transient faults (database or broker away) are retried with back-off, never dead-lettered."""

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError

T = TypeVar("T")
log = logging.getLogger(__name__)

_TRANSIENT = (
    OSError,  # connection refused or reset
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,  # class 08: connection exceptions
    asyncpg.exceptions.OperatorInterventionError,  # class 57: shutting down, cannot connect now
    asyncpg.exceptions.TransactionRollbackError,  # class 40: serialization failure, deadlock
    asyncpg.exceptions.InsufficientResourcesError,  # class 53: too many connections
    asyncpg.InterfaceError,  # connection closed under us
    asyncpg.exceptions.InternalClientError,  # protocol state left broken by a dropped connection
    KafkaConnectionError,
    KafkaTimeoutError,
)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, KafkaError):
        return bool(getattr(error, "retriable", False)) or isinstance(error, _TRANSIENT)
    return isinstance(error, _TRANSIENT)


def backoff(attempt: int, first: float = 0.05, cap: float = 2.0) -> float:
    """Exponential back-off with full jitter."""
    return random.uniform(0, min(cap, first * 2**attempt))


async def retry_transient(operation: Callable[[], Awaitable[T]], deadline_seconds: float) -> T:
    """Run `operation`, retrying transient faults until `deadline_seconds` have passed;
    then the last fault is raised, and the caller hands the message back to Kafka."""
    give_up_at = time.monotonic() + deadline_seconds
    attempt = 0
    while True:
        try:
            return await operation()
        except Exception as error:
            if not is_transient(error) or time.monotonic() >= give_up_at:
                raise
            delay = backoff(attempt)
            log.warning("transient fault, retrying in %.2fs: %r", delay, error)
            attempt += 1
            await asyncio.sleep(delay)
