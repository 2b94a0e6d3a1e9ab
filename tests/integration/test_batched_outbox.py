"""The batched outbox (services/runtime/batched_outbox.py): events emitted together are
written in shared statements, each in the outbox when its `emit` returns; a write that
fails fails each of its callers, and the next write goes on."""

import asyncio

import asyncpg
import pytest

from schemas.distribution import Click, LinkClicked
from services.runtime.batched_outbox import BatchedOutbox, WriterStopped
from services.runtime.migrate import RUNTIME_MIGRATIONS, migrate
from services.runtime.unit_of_work import Deferred, flush

SHARE = "f" * 32


@pytest.fixture
async def pool(scratch_schema):
    _, dsn = await scratch_schema()
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=4)
    async with pool.acquire() as conn:
        await migrate(conn, {"runtime": RUNTIME_MIGRATIONS})
    yield pool
    await pool.close()


def clicked(n: int) -> LinkClicked:
    return LinkClicked(source="/test", subject=SHARE, data=click(n))


def click(n: int) -> Click:
    return Click(share_id=SHARE, item_id="item-0001", campaign_id=None, network="linkedin", bot=False,
                 clicked_at="2026-12-02T10:00:00Z", visitor=f"{n:064x}")


async def test_events_emitted_together_share_statements_and_each_is_in_the_outbox_on_return(pool):
    outbox = BatchedOutbox(lambda: pool)

    async def emit(n: int) -> tuple[str, int]:
        event = clicked(n)
        await outbox.emit("clicks", event)
        # Returned: committed, so another session sees it.
        return event.id, await pool.fetchval("SELECT count(*) FROM outbox WHERE event_id = $1", event.id)

    answers = await asyncio.gather(*(emit(n) for n in range(60)))
    assert all(seen == 1 for _, seen in answers)
    rows = await pool.fetch("SELECT event_id, topic, key, type, payload, xmin::text AS tx FROM outbox ORDER BY seq")
    assert [r["event_id"] for r in rows] == [event_id for event_id, _ in answers]  # in the order emitted
    assert {(r["topic"], r["key"], r["type"]) for r in rows} == {("clicks", SHARE, LinkClicked.model_fields["type"].default)}
    assert LinkClicked.model_validate_json(rows[7]["payload"]).data == click(7)
    assert len({r["tx"] for r in rows}) < len(rows) / 4  # far fewer transactions than events


async def test_more_than_a_statement_holds_are_written_in_several_in_the_order_emitted(pool):
    outbox = BatchedOutbox(lambda: pool, max_rows=7)
    events = [clicked(n) for n in range(30)]
    await asyncio.gather(*(outbox.emit("clicks", event) for event in events))
    rows = await pool.fetch("SELECT event_id, xmin::text AS tx FROM outbox ORDER BY seq")
    assert [r["event_id"] for r in rows] == [e.id for e in events]
    sizes = [sum(1 for r in rows if r["tx"] == tx) for tx in dict.fromkeys(r["tx"] for r in rows)]
    assert max(sizes) == 7 and len(sizes) >= 5


class LosingOnce:
    """The pool, but its first connection is lost under the write (a reset, a failover)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool, self.lost = pool, False

    def acquire(self):
        if not self.lost:
            self.lost = True
            raise ConnectionResetError("connection reset by peer")
        return self.pool.acquire()


async def test_a_write_whose_connection_was_lost_is_retried_and_its_callers_answered(pool):
    flaky = LosingOnce(pool)
    outbox = BatchedOutbox(lambda: flaky)
    events = [clicked(n) for n in range(10)]
    await asyncio.wait_for(asyncio.gather(*(outbox.emit("clicks", event) for event in events)), 10)
    assert flaky.lost
    assert [r["event_id"] for r in await pool.fetch("SELECT event_id FROM outbox ORDER BY seq")] == [
        e.id for e in events]


async def test_a_write_retried_after_its_commit_writes_no_event_twice(pool):
    """The answer to a commit can be lost after the commit: the retry finds the rows there."""
    events = [clicked(n) for n in range(3)]
    rows = [(e.id, "clicks", e.subject, e.type, e.to_bytes()) for e in events]
    async with pool.acquire() as conn:
        await flush(conn, [Deferred(rows=rows[:2])])
        await flush(conn, [Deferred(rows=rows)])
    assert [r["event_id"] for r in await pool.fetch("SELECT event_id FROM outbox ORDER BY seq")] == [
        e.id for e in events]


async def test_a_writer_cancelled_fails_its_callers_rather_than_leave_them_waiting(pool):
    gate = asyncio.Semaphore(1)
    outbox = BatchedOutbox(lambda: pool, gate=gate)
    async with gate:  # the writer waits for it, mid-write
        waiting = [asyncio.create_task(outbox.emit("clicks", clicked(n))) for n in range(5)]
        await asyncio.sleep(0.1)
        assert outbox._writer is not None
        outbox._writer.cancel()
    done = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), 10)
    assert all(isinstance(d, WriterStopped) for d in done)
    await outbox.emit("clicks", clicked(9))  # the next emit starts a writer again
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1


async def test_an_event_alone_is_written_at_once(pool):
    outbox = BatchedOutbox(lambda: pool)
    event = clicked(1)
    await outbox.emit("clicks", event)
    assert await pool.fetchval("SELECT event_id FROM outbox") == event.id


async def test_a_write_that_fails_fails_each_of_its_callers_and_the_next_write_goes_on(pool):
    outbox = BatchedOutbox(lambda: pool)
    await pool.execute("ALTER TABLE outbox RENAME TO outbox_away")
    answers = await asyncio.gather(*(outbox.emit("clicks", clicked(n)) for n in range(10)),
                                   return_exceptions=True)
    assert all(isinstance(a, asyncpg.UndefinedTableError) for a in answers)
    await pool.execute("ALTER TABLE outbox_away RENAME TO outbox")
    event = clicked(11)
    await outbox.emit("clicks", event)
    assert [r["event_id"] for r in await pool.fetch("SELECT event_id FROM outbox")] == [event.id]


async def test_a_caller_gone_while_it_waits_leaves_the_others_answered(pool):
    """A client that hangs up cancels its request; the write it was in goes on for the rest."""
    outbox = BatchedOutbox(lambda: pool)
    first = asyncio.create_task(outbox.emit("clicks", clicked(0)))
    events = [clicked(n) for n in range(1, 6)]
    waiting = [asyncio.create_task(outbox.emit("clicks", event)) for event in events]
    await asyncio.sleep(0)  # all six queued, none written yet
    waiting[2].cancel()
    await first
    done = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), 10)
    assert isinstance(done[2], asyncio.CancelledError)
    kept = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM outbox")}
    assert done[:2] == done[3:] == [None, None]
    assert {e.id for n, e in enumerate(events) if n != 2} <= kept


async def test_a_write_holds_its_gate_while_it_holds_a_connection(pool):
    """The redirect's bound on the pool's connections counts its writer too."""
    gate = asyncio.Semaphore(1)
    outbox = BatchedOutbox(lambda: pool, gate=gate)
    async with gate:
        emitting = asyncio.create_task(outbox.emit("clicks", clicked(1)))
        await asyncio.sleep(0.2)
        assert not emitting.done() and await pool.fetchval("SELECT count(*) FROM outbox") == 0
    await asyncio.wait_for(emitting, 10)
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1


async def test_before_the_service_started_an_emit_is_refused():
    outbox = BatchedOutbox(lambda: None)
    with pytest.raises(WriterStopped, match="not started"):
        await outbox.emit("clicks", clicked(1))
