"""What the services hold about one run, read from their schemas with the admin login, in a
read-only transaction: the same shapes as the reference (model.py) computes."""

import asyncio
import time
from collections import Counter

import asyncpg

from services.consent import ledger
from services.consent.domain import pseudonym

# The database stopping or starting (a wrong query is not retried).
_DATABASE_AWAY = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
                  asyncpg.exceptions.OperatorInterventionError)


class Observed:
    """Every query is restricted to the run's people (`adv-<tag>-…`) and items. The
    connection is made again after the database restarted."""

    def __init__(self, admin_dsn: str, tag: str) -> None:
        self.dsn = admin_dsn
        self.conn: asyncpg.Connection | None = None
        self.people = f"adv-{tag}-%"
        self.items = f"item-{tag}-%"

    async def _connection(self) -> asyncpg.Connection:
        if self.conn is None or self.conn.is_closed():
            self.conn = await asyncpg.connect(self.dsn)
        return self.conn

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()

    async def rows(self, sql: str, *args, patience: float = 180) -> list[asyncpg.Record]:
        """Read-only; while the database restarts, tried again (the last error after `patience` s)."""
        deadline = time.monotonic() + patience
        while True:
            try:
                conn = await self._connection()
                async with conn.transaction(readonly=True):
                    return await conn.fetch(sql, *args)
            except _DATABASE_AWAY:
                if time.monotonic() > deadline:
                    raise
                self.conn = None
                await asyncio.sleep(0.5)

    async def known_people(self, schema: str) -> int:
        [row] = await self.rows(f"SELECT count(*) FROM {schema}.people WHERE advocate_id LIKE $1", self.people)
        return row[0]

    async def consent_status(self) -> dict[tuple[str, str], str]:
        rows = await self.rows("SELECT advocate_id, purpose, status FROM consent.consents WHERE advocate_id LIKE $1",
                                self.people)
        return {(r["advocate_id"], r["purpose"]): r["status"] for r in rows}

    async def ledger_entries(self, advocate_ids: list[str], key: bytes) -> int:
        refs = [pseudonym(key, a) for a in advocate_ids]
        [row] = await self.rows("SELECT count(*) FROM consent.ledger WHERE subject_ref = ANY($1)", refs)
        return row[0]

    async def ledger_intact(self) -> bool:
        conn = await self._connection()
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            await conn.execute("SET LOCAL search_path TO consent")
            return (await ledger.verify(conn)).intact

    async def validity(self, schema: str) -> dict[tuple[str, str], bool]:
        rows = await self.rows(f"SELECT advocate_id, purpose, valid FROM {schema}.consents WHERE advocate_id LIKE $1",
                                self.people)
        return {(r["advocate_id"], r["purpose"]): r["valid"] for r in rows}

    async def feeds(self) -> set[tuple[str, str]]:
        # Earlier runs' people are in the directory too, and get this run's items: not ours.
        rows = await self.rows("SELECT advocate_id, item_id FROM distribution.feed WHERE item_id LIKE $1 "
                               "AND advocate_id LIKE $2", self.items, self.people)
        return {(r["advocate_id"], r["item_id"]) for r in rows}

    async def items_distributed(self) -> int:
        [row] = await self.rows("SELECT count(*) FROM distribution.items WHERE item_id LIKE $1", self.items)
        return row[0]

    async def shares(self) -> list[asyncpg.Record]:
        """Distribution's shares of the run, in a stable order: (share id, code, advocate, item, network, status)."""
        return await self.rows("SELECT share_id, code, advocate_id, item_id, network, status FROM distribution.shares "
                                "WHERE item_id LIKE $1 ORDER BY advocate_id, item_id, network, share_id", self.items)

    async def share_counts(self) -> Counter:
        return Counter((r["advocate_id"], r["item_id"], r["network"]) for r in await self.shares())

    async def counted_shares(self) -> dict[str, tuple]:
        """Metrics' shares: share -> (item, network, potential reach, cancelled)."""
        rows = await self.rows("SELECT share_id, item_id, network, potential_reach, cancelled FROM metrics.shares "
                                "WHERE item_id LIKE $1", self.items)
        return {r["share_id"]: (r["item_id"], r["network"], r["potential_reach"], r["cancelled"]) for r in rows}

    async def attributed(self) -> dict[str, str]:
        rows = await self.rows("SELECT share_id, advocate_id FROM metrics.attributed_shares WHERE advocate_id LIKE $1",
                                self.people)
        return {r["share_id"]: r["advocate_id"] for r in rows}

    async def followers(self) -> dict[tuple[str, str], int]:
        rows = await self.rows("SELECT advocate_id, network, followers FROM metrics.followers WHERE advocate_id LIKE $1",
                                self.people)
        return {(r["advocate_id"], r["network"]): r["followers"] for r in rows}

    async def clicks(self, share_ids: list[str]) -> dict[tuple[str, str], tuple[bool, int]]:
        """(share, visitor) -> (bot, clicks)."""
        rows = await self.rows("SELECT share_id, visitor, bot, clicks + machine_requests AS clicks FROM metrics.clicks "
                               "WHERE share_id = ANY($1)",
                               share_ids)
        return {(r["share_id"], r["visitor"]): (r["bot"], r["clicks"]) for r in rows}

    async def engagement(self, share_ids: list[str]) -> dict[str, tuple[int, int, int, int]]:
        rows = await self.rows("SELECT share_id, impressions, reactions, comments, reshares FROM metrics.engagement "
                                "WHERE share_id = ANY($1)", share_ids)
        return {r["share_id"]: (r["impressions"], r["reactions"], r["comments"], r["reshares"]) for r in rows}

    async def item_figures(self) -> dict[str, tuple[int, int, int, int]]:
        """Metrics' own grouping per item: (shares, human clicks, bot clicks, impressions)."""
        rows = await self.rows("""
            SELECT s.item_id, count(*) AS shares,
                   coalesce(sum(c.human), 0) AS human, coalesce(sum(c.bots), 0) AS bots,
                   coalesce(sum(e.impressions), 0) AS impressions
            FROM metrics.shares s
            LEFT JOIN (SELECT share_id, sum(clicks) AS human, sum(machine_requests) AS bots
                       FROM metrics.clicks GROUP BY share_id) c USING (share_id)
            LEFT JOIN metrics.engagement e USING (share_id)
            WHERE s.item_id LIKE $1 AND NOT s.cancelled GROUP BY s.item_id""", self.items)
        return {r["item_id"]: (r["shares"], r["human"], r["bots"], r["impressions"]) for r in rows}
