"""A week is released from one snapshot of its shares (ADR 0028, issue 19).

A week's elements are numbered as they are read (share numbers in the order of their ids);
the release job reads them in its READ COMMITTED transaction, where each statement sees the
tables as they are when it starts. Here another connection stores a share (whose id sorts
before every other) and cancels one, as counting would (the week marked due again, in the
same transaction), right after the first statement of the release that numbers the week's
shares: read in several statements, every later one would number the shares one place
further and its cells would count other shares' people. The cells kept must be those of a
release decided before the change, the week must stay due (ADR 0023: the release may have
missed the change), and the next release must tell the change."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.metrics import queries, reports
from services.metrics.app import build_service
from services.metrics.config import MetricsSettings, MetricsTopics
from services.metrics.handlers import MetricsHandlers
from services.runtime.unit_of_work import UnitOfWork
from tests.integration.metrics.conftest import MetricsRig
from tests.integration.metrics.test_metrics_release_numbered import WEEK, K, write_week
from tests.integration.rig import make_rig

NUMBERS_SHARES = "row_number() OVER (ORDER BY s.share_id)"  # what a statement numbering a week's shares holds
KEPT = f"SELECT {', '.join(queries.RELEASE_COLUMNS)} FROM week_cells WHERE week = $1"
MARK = "INSERT INTO weeks_due (week) VALUES ($1) ON CONFLICT (week) DO UPDATE SET marks = weeks_due.marks + 1"


class Interleaved:
    """A connection that awaits `meanwhile` once, right after the first statement that
    numbers a week's shares has returned, before the caller's next statement."""

    def __init__(self, conn: asyncpg.Connection, meanwhile: Callable[[], Awaitable[None]]) -> None:
        self._conn = conn
        self.meanwhile: Callable[[], Awaitable[None]] | None = meanwhile

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        rows = await self._conn.fetch(query, *args)
        if self.meanwhile is not None and NUMBERS_SHARES in query:
            meanwhile, self.meanwhile = self.meanwhile, None
            await meanwhile()
        return rows


@pytest.fixture
async def schema(stack, scratch_schema, make_topics):
    """Metrics' schema, migrated, with no service running: the test runs the release job."""
    async with make_rig(MetricsRig, stack, scratch_schema, make_topics, build_service, MetricsSettings, MetricsTopics,
                        k_anonymity=K, release_seconds=0) as rig:
        async with rig.running():
            pass  # its migrations make the schema
        yield rig


async def release(handlers: MetricsHandlers, conn: Any) -> int:
    """One pass of the `week-releases` schedule on `conn`, in its own transaction, as Schedule.run_once."""
    async with conn.transaction():
        return await handlers.release_due_week(UnitOfWork(conn, "/test"), datetime.now(UTC))


async def kept(conn: asyncpg.Connection) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in await conn.fetch(KEPT, WEEK))


@pytest.mark.parametrize("seed", [1, 2])
async def test_a_share_stored_and_one_cancelled_during_a_release_do_not_mix_into_its_cells(schema, seed):
    conn = await asyncpg.connect(schema.settings.database_url)
    other = await asyncpg.connect(schema.settings.database_url)
    handlers = MetricsHandlers(schema.settings, schema.topics, schema.settings.rate_cards(), lambda: datetime.now(UTC))
    try:
        await write_week(conn, seed)
        await conn.execute(MARK, WEEK)
        marks = await conn.fetchval("SELECT marks FROM weeks_due WHERE week = $1", WEEK)
        before = sorted((await reports.decide(conn, [WEEK], K, cached=False)).rows())  # the week as the release starts

        async def meanwhile() -> None:
            """As counting would: a share stored and one cancelled, and their week marked, in one transaction."""
            async with other.transaction():
                await other.execute("""INSERT INTO shares (share_id, item_id, campaign_id, network, day, org_unit,
                                                          location, contributor, potential_reach)
                                       SELECT 'aa-first', item_id, campaign_id, 'linkedin', $1, 'ou-0', 'loc-0', $2, 50
                                       FROM items ORDER BY item_id LIMIT 1""", WEEK, uuid.uuid4())
                await other.execute("INSERT INTO clicks (share_id, day, visitor, bot, clicks) VALUES ('aa-first', $1, 'v', false, 3)",
                                    WEEK)
                await other.execute("""UPDATE shares SET cancelled = true WHERE share_id = (
                                           SELECT max(share_id) FROM shares WHERE day BETWEEN $1 AND $2 AND NOT cancelled)""",
                                    WEEK, WEEK + timedelta(days=6))  # as many shares as before: no number out of range
                await other.execute(MARK, WEEK)

        interleaved = Interleaved(conn, meanwhile)
        assert await release(handlers, interleaved) == 1
        assert interleaved.meanwhile is None, "the change was made during the release"
        assert await kept(conn) == before
        assert await conn.fetchval("SELECT marks FROM weeks_due WHERE week = $1", WEEK) == marks + 1, "still due"

        after = sorted((await reports.decide(conn, [WEEK], K, cached=False)).rows())
        assert after != before, "the change changes the week's cells (or this test would prove nothing)"
        assert await release(handlers, conn) == 1
        assert await kept(conn) == after
        assert await conn.fetchval("SELECT count(*) FROM weeks_due") == 0
    finally:
        await conn.close()
        await other.close()
