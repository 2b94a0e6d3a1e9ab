"""A service's start waits for its database and Kafka only so long, and its graceful stop
gives each part only so long (`Bounds`, ADR 0043): a dependency that accepts connections
and never answers no longer holds a start for aiokafka's 40 s or asyncpg's 60 s, nor a stop
past the pods' 30 s grace period. A failed start says which dependency, and where."""

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

import asyncpg
import pytest

from harness.kafka import eventually
from harness.probe import build_probe
from harness.processes import free_port
from services.runtime.service import Bounds, RefusedToStart, UnreachableAtStart

QUICK = Bounds(connect=1.0, consumers_stop=1.0, broker_stop=1.0, tasks_stop=1.0, database_stop=1.0)
NOT_HANGING = 10  # seconds: far beyond every bound above, far below what they replace


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A port on 127.0.0.1 that accepts connections and never answers on them, as a frozen
    broker or database does."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in held:
            writer.close()


def probe_with(probe, **changes):
    service = build_probe(probe.settings.model_copy(update=changes), probe.input_topic, probe.output_topic)
    service.bounds = QUICK
    return service


async def start_fails(service) -> str:
    """Why `service` failed to start (only its message: the error's traceback would keep what
    it holds alive)."""
    with pytest.raises(UnreachableAtStart) as failed:
        async with asyncio.timeout(NOT_HANGING):
            async with service.running():
                pass
    return str(failed.value)


async def test_a_kafka_that_never_answers_fails_the_start_naming_it_before_the_database_is_touched(probe):
    async with silent_server() as port:
        service = probe_with(probe, kafka_bootstrap_servers=f"127.0.0.1:{port}")
        error = await start_fails(service)
    assert f"Kafka at 127.0.0.1:{port}" in error
    assert service.pool is None


async def test_an_unreachable_kafka_fails_the_start_without_leaving_a_producer_unclosed(probe, caplog):
    service = probe_with(probe, kafka_bootstrap_servers=f"127.0.0.1:{free_port()}")
    error = await start_fails(service)
    assert "could not be reached" in error
    del service
    gc.collect()  # aiokafka reports a client it finds unclosed when it is collected
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and "Unclosed" in r.getMessage()]


async def test_a_database_that_never_answers_fails_the_start_naming_its_host_but_not_its_password(probe):
    async with silent_server() as port:
        service = probe_with(probe, database_url=f"postgresql://someone:s3cret@127.0.0.1:{port}/advocacy")
        error = await start_fails(service)
    assert error == f"{probe.settings.service}: the database at 127.0.0.1:{port} did not answer within 1 s"


async def test_a_refused_database_connection_fails_the_start_saying_so(probe):
    service = probe_with(probe, database_url=f"postgresql://someone:s3cret@127.0.0.1:{free_port()}/advocacy")
    error = await start_fails(service)
    assert "could not be reached" in error and "s3cret" not in error


async def test_a_database_url_libpq_cannot_read_is_refused_without_quoting_it(probe):
    # asyncpg's own ValueError quoted the URI from the "?" on, password included.
    service = probe_with(probe, database_url="postgresql://someone:ab?cdSECRET@127.0.0.1:5432/advocacy")
    with pytest.raises(RefusedToStart) as refused:
        async with service.running():
            pass
    assert "DATABASE_URL is not a URI libpq can read" in str(refused.value)
    assert "SECRET" not in str(refused.value) and refused.value.__suppress_context__


async def test_a_process_whose_start_fails_on_a_dependency_says_why_in_one_line_and_exits_3(probe, caplog):
    settings = probe.settings.model_copy(update={
        "kafka_bootstrap_servers": f"127.0.0.1:{free_port()}", "http_port": free_port(), "management_port": free_port()})
    service = build_probe(settings, probe.input_topic, probe.output_topic)
    service.bounds = QUICK
    with pytest.raises(SystemExit) as exited:
        await service.run()  # uvicorn and the lifespan, as the process runs them
    assert exited.value.code == 3
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert line.startswith(f"{settings.service}: Kafka at 127.0.0.1:") and "could not be reached" in line
    assert not [r for r in caplog.records if "Traceback" in r.getMessage()]


async def test_a_broker_that_does_not_stop_is_left_behind_and_the_rest_still_stops(probe, caplog):
    service = probe_with(probe)
    broker_stop = service.broker.stop

    async def frozen(*_args) -> None:  # LeaveGroup and the producer's flush never answered
        await asyncio.Event().wait()

    try:
        async with asyncio.timeout(NOT_HANGING):
            async with service.running():
                service.broker.stop = frozen
        assert service.pool is not None and service.pool.is_closing()
        assert all(task.done() for task in service.tasks)
        assert any("the broker's subscribers and producer did not stop within 1 s" in r.getMessage()
                   for r in caplog.records)
        assert service.left_behind == ["the broker's subscribers and producer"]
    finally:
        await broker_stop()  # what the test froze, closed after all


async def test_a_connection_never_given_back_does_not_hold_the_pools_close_and_is_closed(probe, caplog):
    service = probe_with(probe)
    async with asyncio.timeout(NOT_HANGING):
        async with service.running():
            held = await service.pool.acquire()  # a request stuck in a query, say, holds one
            backend = await held.fetchval("SELECT pg_backend_pid()")
    assert any("the database's pool did not stop within 1 s" in r.getMessage() for r in caplog.records)
    assert service.left_behind == ["the database's pool"]
    conn = await asyncpg.connect(probe.settings.database_url)
    try:
        await eventually(lambda: gone(conn, backend), what="the held connection's backend gone")
    finally:
        await conn.close()


async def gone(conn, backend: int) -> bool:
    return not await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", backend)
