"""Group commit (services/runtime/api/group_commit.py): commands arriving together share one
transaction, each in a savepoint of its own, and each request keeps its own fate."""

import asyncio

import asyncpg
import pytest

from schemas.commands import Rejected
from schemas.consent import Reason
from services.runtime.api.group_commit import GroupCommit, Stopped
from services.runtime.migrate import RUNTIME_MIGRATIONS, migrate
from services.runtime.retry import is_transient
from services.runtime.unit_of_work import DeferredTable, KeyClaim, UnitOfWork


@pytest.fixture
async def pool(scratch_schema):
    _, dsn = await scratch_schema()
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=4)
    await pool.execute("CREATE TABLE taken (n int PRIMARY KEY, tx bigint NOT NULL)")
    yield pool
    await pool.close()


async def test_commands_arriving_together_commit_together_and_a_refusal_or_a_bug_stays_their_own(pool):
    group = GroupCommit(pool, "/test", retry_seconds=2)

    async def take(n: int, uow: UnitOfWork) -> int:
        await uow.conn.execute("INSERT INTO taken VALUES ($1, txid_current())", n)  # written first, on purpose
        if n % 7 == 0:
            raise Rejected(Reason.NOT_IN_DIRECTORY, "a rule refuses it")
        if n == 10:
            await uow.conn.execute("INSERT INTO taken VALUES (1, 0)")  # a bug: a duplicate key
        return n * 2

    try:
        answers = await asyncio.gather(*(group.run(lambda uow, n=n: take(n, uow)) for n in range(1, 41)),
                                       return_exceptions=True)
    finally:
        await group.close()

    refused = [n for n, a in zip(range(1, 41), answers, strict=True) if isinstance(a, Rejected)]
    broken = [n for n, a in zip(range(1, 41), answers, strict=True) if isinstance(a, asyncpg.UniqueViolationError)]
    assert refused == [7, 14, 21, 28, 35] and broken == [10]
    kept = {r["n"]: r["tx"] for r in await pool.fetch("SELECT n, tx FROM taken")}
    assert sorted(kept) == [n for n in range(1, 41) if n % 7 and n != 10]  # the others' rows only
    assert all(answers[n - 1] == n * 2 for n in kept)
    assert len(set(kept.values())) < len(kept)  # fewer transactions than commands: they shared commits


async def test_a_command_alone_keeps_its_own_fate_too(pool):
    """One at a time, a batch is one command, run without a savepoint: refused or broken, it
    leaves nothing behind and its request gets the error; accepted, it is committed."""
    group = GroupCommit(pool, "/test", retry_seconds=2)

    async def take(n: int, uow: UnitOfWork) -> int:
        await uow.conn.execute("INSERT INTO taken VALUES ($1, txid_current())", n)
        if n == 2:
            raise Rejected(Reason.NOT_IN_DIRECTORY, "a rule refuses it")
        if n == 3:
            await uow.conn.execute("INSERT INTO taken VALUES (1, 0)")  # a bug: a duplicate key
        return n * 2

    try:
        assert await group.run(lambda uow: take(1, uow)) == 2
        with pytest.raises(Rejected):
            await group.run(lambda uow: take(2, uow))
        with pytest.raises(asyncpg.UniqueViolationError):
            await group.run(lambda uow: take(3, uow))
        assert await group.run(lambda uow: take(4, uow)) == 8  # the queue goes on after a failure
    finally:
        await group.close()

    assert sorted(r["n"] for r in await pool.fetch("SELECT n FROM taken")) == [1, 4]


async def test_what_a_transaction_holds_is_shared_by_its_commands_and_undone_with_a_failed_one(pool):
    """`UnitOfWork.held` (e.g. consent's ledger head, read once per transaction) is shared
    by the commands of one transaction; one that fails takes back what it put there, so the
    next command sees what the transaction really holds."""
    group = GroupCommit(pool, "/test", retry_seconds=2)
    seen: dict[int, list[int | None]] = {}

    async def take(n: int, uow: UnitOfWork) -> int:
        seen.setdefault(n, []).append(uow.held.get("last"))
        uow.held["last"] = n
        await uow.conn.execute("INSERT INTO taken VALUES ($1, txid_current())", n)
        if n in (2, 4):  # 2 fails in the run without savepoints, 4 in the run with them
            raise Rejected(Reason.NOT_IN_DIRECTORY, "a rule refuses it")
        return n

    try:
        answers = await asyncio.gather(*(group.run(lambda uow, n=n: take(n, uow)) for n in range(1, 6)),
                                       return_exceptions=True)
    finally:
        await group.close()

    assert [a if isinstance(a, int) else "refused" for a in answers] == [1, "refused", 3, "refused", 5]
    # First all five in one transaction without savepoints, until 2 failed; then the others,
    # each in a savepoint: 4's value went with its savepoint, so 5 sees 3's.
    assert seen == {1: [None, None], 2: [1], 3: [1], 4: [3], 5: [3]}
    assert sorted(r["n"] for r in await pool.fetch("SELECT n FROM taken")) == [1, 3, 5]


async def _three_commands_the_second_refused(pool, gone: int) -> list:
    """Commands 1, 2 and 3 in one batch; command 2 is refused, and the request of command
    `gone` is cancelled (its client hung up) once that command has run. The answers."""
    group = GroupCommit(pool, "/test", retry_seconds=2)
    ran, go_on = asyncio.Event(), asyncio.Event()

    async def take(n: int, uow: UnitOfWork) -> int:
        await uow.conn.execute("INSERT INTO taken VALUES ($1, txid_current())", n)
        if n == gone:
            ran.set()
        if n == 2:
            await go_on.wait()
            raise Rejected(Reason.NOT_IN_DIRECTORY, "a rule refuses it")
        return n

    try:
        requests = [asyncio.create_task(group.run(lambda uow, n=n: take(n, uow))) for n in (1, 2, 3)]
        await ran.wait()
        requests[gone - 1].cancel()
        go_on.set()
        return await asyncio.gather(*requests, return_exceptions=True)
    finally:
        await group.close()


async def test_a_request_gone_while_its_command_fails_leaves_the_others_of_its_batch_be(pool):
    """The client hung up (its request cancelled) while its command ran, and the command is
    then refused: the batch's other commands still commit and are answered."""
    answers = await _three_commands_the_second_refused(pool, gone=2)

    assert (answers[0], isinstance(answers[1], asyncio.CancelledError), answers[2]) == (1, True, 3)
    assert sorted(r["n"] for r in await pool.fetch("SELECT n FROM taken")) == [1, 3]


async def test_a_command_whose_request_went_after_it_ran_is_run_again_when_another_fails(pool):
    """The client of command 1 hung up after it ran; command 2 is then refused, which rolls
    the first run back: command 1 is run again with 3, as it would have been alone (a
    withdrawal must not vanish because its requester stopped waiting)."""
    answers = await _three_commands_the_second_refused(pool, gone=1)

    assert isinstance(answers[0], asyncio.CancelledError) and answers[2] == 3
    assert sorted(r["n"] for r in await pool.fetch("SELECT n FROM taken")) == [1, 3]


async def test_outbox_rows_and_idempotency_claims_are_written_once_per_batch_and_a_claimed_key_fails_its_own(
        scratch_schema):
    """`UnitOfWork.deferred` (ADR 0031): a batch's outbox rows, rows of deferred tables (the
    proof ledger's, in consent) and Idempotency-Key claims are written in one statement before
    its commit, in the order the commands ran. A key claimed
    before (by an earlier transaction, or earlier in the same batch) fails its command as a
    refusal would, as a repeat if the request is the one claimed with it, as a reuse if it is
    another: none of its rows stay, and the others' commit."""
    _, dsn = await scratch_schema()
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=4)
    await migrate_runtime(pool)
    group = GroupCommit(pool, "/test", retry_seconds=2)
    await pool.execute("INSERT INTO inbox (consumer, event_id) VALUES ('/test/http', 'key-3'), ('/test/http', 'key-3 x')")
    await pool.execute("CREATE TABLE said (n int NOT NULL, word text NOT NULL, at timestamptz)")
    await pool.execute("CREATE TABLE heard (n int NOT NULL)")
    said = DeferredTable("said", (("n", "integer"), ("word", "text"), ("at", "timestamptz")))
    heard = DeferredTable("heard", (("n", "integer"),))

    async def say(n: int, key: tuple[str, str] | None, uow: UnitOfWork) -> int:
        assert uow.deferred is not None, "group commit defers"
        await uow.emit_tombstones("t", [f"{n}-a", f"{n}-b"])
        uow.deferred.insert(said, [(n, "hello", None), (n, "bye", None)])
        if n % 2 == 0:  # a table only some commands of a batch write
            uow.deferred.insert(heard, [(n,)])
        if key is not None:
            uow.deferred.claim(KeyClaim("/test/http", key[0], f"{key[0]} {key[1]}", Rejected("repeated", "again"),
                                        Rejected("reused", "another request")))
        return n

    # 3: the request claimed before; 5 repeats 1's request, 7 asks another under 1's key
    keys = {1: ("key-1", "x"), 3: ("key-3", "x"), 5: ("key-1", "x"), 6: ("key-6", "x"), 7: ("key-1", "y")}
    try:
        answers = await asyncio.gather(*(group.run(lambda uow, n=n: say(n, keys.get(n), uow)) for n in range(1, 9)),
                                       return_exceptions=True)
    finally:
        await group.close()
    failed = {n: a.reason for n, a in zip(range(1, 9), answers, strict=True) if isinstance(a, Rejected)}
    assert failed == {3: "repeated", 5: "repeated", 7: "reused"}
    assert [a for a in answers if not isinstance(a, Exception)] == [1, 2, 4, 6, 8]
    written = [r["key"] for r in await pool.fetch("SELECT key FROM outbox ORDER BY seq")]
    assert written == [f"{n}-{x}" for n in (1, 2, 4, 6, 8) for x in "ab"]  # the commands' order
    claimed = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM inbox")}
    assert claimed == {"key-1", "key-1 x", "key-3", "key-3 x", "key-6", "key-6 x"}
    assert [(r["n"], r["word"]) for r in await pool.fetch("SELECT n, word FROM said ORDER BY ctid")] == [
        (n, word) for n in (1, 2, 4, 6, 8) for word in ("hello", "bye")]
    assert [r["n"] for r in await pool.fetch("SELECT n FROM heard ORDER BY ctid")] == [2, 4, 6, 8]
    await pool.close()


async def migrate_runtime(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await migrate(conn, {"runtime": RUNTIME_MIGRATIONS})


async def test_a_deferred_row_the_database_refuses_fails_its_own_command_only(pool):
    """The statement writing the batch's deferred rows fails for one command's row (a duplicate
    key): the batch runs again with a savepoint each, each command writing its own, and only
    that command's request gets the error."""
    await migrate_runtime(pool)  # the outbox, which the statement writes too
    group = GroupCommit(pool, "/test", retry_seconds=2)
    taken = DeferredTable("taken", (("n", "integer"), ("tx", "bigint")))

    async def take(n: int, uow: UnitOfWork) -> int:
        assert uow.deferred is not None, "group commit defers"
        uow.deferred.insert(taken, [(1 if n == 4 else n, 0)])  # 4's row repeats 1's key
        return n

    try:
        answers = await asyncio.gather(*(group.run(lambda uow, n=n: take(n, uow)) for n in range(1, 7)),
                                       return_exceptions=True)
    finally:
        await group.close()
    assert isinstance(answers[3], asyncpg.UniqueViolationError)
    assert [answers[n - 1] for n in (1, 2, 3, 5, 6)] == [1, 2, 3, 5, 6]
    assert sorted(r["n"] for r in await pool.fetch("SELECT n FROM taken")) == [1, 2, 3, 5, 6]


async def test_with_two_transactions_a_batch_waiting_for_a_lock_holds_up_only_itself(pool):
    """`transactions=2` (ADR 0046): while one batch waits for a row another session holds,
    commands arriving after it commit in the other."""
    group = GroupCommit(pool, "/test", retry_seconds=5, transactions=2)
    await pool.execute("INSERT INTO taken VALUES (0, 0)")

    async def take(n: int, uow: UnitOfWork) -> int:
        if n == 0:
            await uow.conn.execute("UPDATE taken SET tx = 1 WHERE n = 0")  # waits for the holder
        else:
            await uow.conn.execute("INSERT INTO taken VALUES ($1, txid_current())", n)
        return n

    holder = await pool.acquire()
    try:
        async with holder.transaction():
            await holder.execute("SELECT FROM taken WHERE n = 0 FOR UPDATE")
            waiting = asyncio.create_task(group.run(lambda uow: take(0, uow)))
            while not await pool.fetchval("SELECT $1 = ANY(pg_blocking_pids(pid)) FROM pg_stat_activity "
                                          "WHERE wait_event_type = 'Lock' LIMIT 1", holder.get_server_pid()):
                await asyncio.sleep(0.01)
            after = await asyncio.wait_for(asyncio.gather(*(group.run(lambda uow, n=n: take(n, uow))
                                                            for n in (1, 2, 3))), timeout=3)
            assert after == [1, 2, 3] and not waiting.done()
        assert await waiting == 0
    finally:
        await pool.release(holder)
        await group.close()


async def test_closing_answers_every_command_not_committed_with_stopped_and_refuses_new_ones(pool):
    """The service stopping: the batch under way is rolled back and its request, like the ones
    still queued, gets `Stopped` (the API's 503), not an answer that never comes."""
    group = GroupCommit(pool, "/test", retry_seconds=2)
    started = asyncio.Event()

    async def take(n: int, uow: UnitOfWork) -> int:
        await uow.conn.execute("INSERT INTO taken VALUES ($1, txid_current())", n)
        started.set()
        await asyncio.Event().wait()  # still under way when the group closes
        return n

    under_way = asyncio.create_task(group.run(lambda uow: take(1, uow)))
    await started.wait()
    queued = asyncio.create_task(group.run(lambda uow: take(2, uow)))
    await asyncio.sleep(0.05)
    await group.close()
    answers = await asyncio.wait_for(asyncio.gather(under_way, queued, return_exceptions=True), timeout=2)
    assert [type(answer) for answer in answers] == [Stopped, Stopped]
    with pytest.raises(Stopped):
        await group.run(lambda uow: take(3, uow))
    assert await pool.fetchval("SELECT count(*) FROM taken") == 0
    assert is_transient(Stopped())
