"""Notification requests: immediate ones now (up to a daily cap per person), the rest in
the daily or weekly digest. A durable schedule sends what is due; each once."""

from collections import defaultdict
from datetime import datetime

from schemas.directory import Digest
from schemas.distribution import EVENTS_TOPIC, Notification, NotificationRequested
from services.distribution.domain import next_digest
from services.runtime.unit_of_work import UnitOfWork

_CLAIM = """
WITH due AS (
    SELECT advocate_id, item_id FROM pending_notifications WHERE due_at <= $1
    ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
DELETE FROM pending_notifications p USING due
WHERE p.advocate_id = due.advocate_id AND p.item_id = due.item_id
RETURNING p.advocate_id, p.item_id, p.digest"""

_SENT_TODAY = "SELECT advocate_id, immediate FROM notifications_sent WHERE day = $1 AND advocate_id = ANY($2)"
_COUNT = """INSERT INTO notifications_sent (advocate_id, day, immediate) VALUES ($1, $2, $3)
            ON CONFLICT (advocate_id, day) DO UPDATE SET immediate = notifications_sent.immediate + $3"""
_POSTPONE = "INSERT INTO pending_notifications (advocate_id, item_id, digest, due_at) VALUES ($1, $2, 'daily', $3)"


def notifier(daily_cap: int, digest_hour: int, topic: str = EVENTS_TOPIC):
    """The schedule's job: send what is due, in batches of up to 1,000 rows."""

    async def send_due(uow: UnitOfWork, now: datetime) -> int:
        due = await uow.conn.fetch(_CLAIM, now, 1000)
        immediate: dict[str, list[str]] = defaultdict(list)
        digests: dict[tuple[str, str], list[str]] = defaultdict(list)
        for row in due:
            if row["digest"] == Digest.IMMEDIATE:
                immediate[row["advocate_id"]].append(row["item_id"])
            else:
                digests[(row["advocate_id"], row["digest"])].append(row["item_id"])

        sent = dict(await uow.conn.fetch(_SENT_TODAY, now.date(), list(immediate)))
        later = next_digest(Digest.DAILY, now, digest_hour)
        notices: list[tuple[str, Notification]] = []
        for advocate, items in immediate.items():
            room = max(0, daily_cap - sent.get(advocate, 0))
            notices += [(advocate, Notification(advocate_id=advocate, digest=Digest.IMMEDIATE, item_ids=[i]))
                        for i in items[:room]]
            await uow.conn.executemany(_POSTPONE, [(advocate, i, later) for i in items[room:]])
            if items[:room]:
                await uow.conn.execute(_COUNT, advocate, now.date(), len(items[:room]))
        notices += [(advocate, Notification(advocate_id=advocate, digest=Digest(digest), item_ids=items))
                    for (advocate, digest), items in digests.items()]
        if notices:
            await uow.emit_many(topic, NotificationRequested, notices)
        return len(due)

    return send_due
