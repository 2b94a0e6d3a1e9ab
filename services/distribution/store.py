"""Distribution's SQL for projections, audiences, feeds and notifications (asyncpg).

Fan-out is one statement: feed entries and pending notifications for the whole audience
are written set-based, never one insert per person. It locks the audience's consent rows
(FOR SHARE) while a consent change locks its row for update, so a withdrawal racing a
fan-out either comes first (and the person is not in the audience) or waits and then
removes what the fan-out delivered.
"""

from datetime import datetime
from typing import Any

import asyncpg

RECEIVE = "receive_content"

_FAN_OUT = """
WITH delivered AS (
    INSERT INTO feed (advocate_id, item_id, delivered_at)
    SELECT p.advocate_id, $1, $2
    FROM people p JOIN consents c ON c.advocate_id = p.advocate_id AND c.purpose = 'receive_content' AND c.valid
    WHERE (cardinality($3::text[]) = 0 OR p.role = ANY($3))
      AND (cardinality($4::text[]) = 0 OR p.org_unit = ANY($4))
      AND (cardinality($5::text[]) = 0 OR p.location = ANY($5))
      AND (cardinality($6::text[]) = 0 OR p.languages && $6)
      AND (cardinality($7::text[]) = 0 OR p.interests && $7)
      AND (cardinality(p.languages) = 0 OR $8 = ANY(p.languages))
      AND (cardinality(p.interests) = 0 OR cardinality($9::text[]) = 0 OR p.interests && $9)
    FOR SHARE OF c
    ON CONFLICT DO NOTHING
    RETURNING advocate_id
), queued AS (
    INSERT INTO pending_notifications (advocate_id, item_id, digest, due_at)
    SELECT d.advocate_id, $1, p.digest,
           CASE p.digest WHEN 'immediate' THEN $2 WHEN 'daily' THEN $10 ELSE $11 END
    FROM delivered d JOIN people p USING (advocate_id)
    WHERE p.digest <> 'off'
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM delivered"""
# The same for one person (by primary key): what is active when they say yes to receiving.
_FAN_OUT_TO_ONE = _FAN_OUT.replace("WHERE (cardinality($3", "WHERE p.advocate_id = $12 AND (cardinality($3")


async def set_consent(conn: asyncpg.Connection, advocate_id: str, purpose: str, valid: bool,
                      changed_at: datetime) -> bool:
    """Locks the row: a fan-out or share request reading it waits for this transaction (see
    module doc). Only a newer change applies; returns whether it did."""
    return await conn.fetchval(
        """INSERT INTO consents (advocate_id, purpose, valid, changed_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (advocate_id, purpose) DO UPDATE SET valid = EXCLUDED.valid, changed_at = EXCLUDED.changed_at
           WHERE consents.changed_at <= EXCLUDED.changed_at
           RETURNING true""",
        advocate_id, purpose, valid, changed_at) is not None


async def may(conn: asyncpg.Connection, advocate_id: str, purpose: str) -> bool:
    """Whether the advocate allows `purpose`; the row stays locked (FOR SHARE) until commit,
    so a withdrawal waits and then sees what this transaction created."""
    return bool(await conn.fetchval(
        "SELECT valid FROM consents WHERE advocate_id = $1 AND purpose = $2 FOR SHARE", advocate_id, purpose))


async def save_item(conn: asyncpg.Connection, item_id: str, campaign_id: str | None, content: str,
                    at: datetime) -> bool:
    """Insert or update an active item; False if it was retracted or expired (it stays so,
    and a replayed publication must not fan it out again)."""
    return await conn.fetchval(
        """INSERT INTO items (item_id, status, campaign_id, content, updated_at) VALUES ($1, 'active', $2, $3::jsonb, $4)
           ON CONFLICT (item_id) DO UPDATE SET campaign_id = EXCLUDED.campaign_id,
               content = EXCLUDED.content, updated_at = EXCLUDED.updated_at
           WHERE items.status = 'active'
           RETURNING true""",
        item_id, campaign_id, content, at) is not None


async def end_item(conn: asyncpg.Connection, item_id: str, status: str) -> None:
    """Retracted or expired: out of every feed and every pending notification."""
    await conn.execute("UPDATE items SET status = $2 WHERE item_id = $1", item_id, status)
    await conn.execute("DELETE FROM feed WHERE item_id = $1", item_id)
    await conn.execute("DELETE FROM pending_notifications WHERE item_id = $1", item_id)


async def item(conn: asyncpg.Connection, item_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM items WHERE item_id = $1", item_id)


async def in_feed(conn: asyncpg.Connection, advocate_id: str, item_id: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT true FROM feed WHERE advocate_id = $1 AND item_id = $2", advocate_id, item_id))


async def fan_out(conn: asyncpg.Connection, item_id: str, content: dict[str, Any], now: datetime,
                  daily_at: datetime, weekly_at: datetime, only: str | None = None) -> int:
    """The item to its whole audience, or `only` to that advocate if they are in it."""
    audience = content.get("audience", {})
    arguments = [item_id, now, audience.get("roles", []), audience.get("org_units", []),
                 audience.get("locations", []), audience.get("languages", []), audience.get("topics", []),
                 content["language"], content.get("topics", []), daily_at, weekly_at]
    if only is None:
        return await conn.fetchval(_FAN_OUT, *arguments)
    return await conn.fetchval(_FAN_OUT_TO_ONE, *arguments, only)


async def active_items(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT item_id, content FROM items WHERE status = 'active'")


async def stop_delivery(conn: asyncpg.Connection, advocate_id: str) -> None:
    """No `receive_content` any more: their feed and pending notifications go."""
    await conn.execute("DELETE FROM feed WHERE advocate_id = $1", advocate_id)
    await conn.execute("DELETE FROM pending_notifications WHERE advocate_id = $1", advocate_id)


async def erase(conn: asyncpg.Connection, advocate_id: str) -> None:
    """Every row about the advocate goes; their shares stay as links, without them."""
    await stop_delivery(conn, advocate_id)
    for table in ("consents", "notifications_sent", "people"):
        await conn.execute(f"DELETE FROM {table} WHERE advocate_id = $1", advocate_id)
    await conn.execute("UPDATE shares SET advocate_id = NULL, post = NULL WHERE advocate_id = $1", advocate_id)
