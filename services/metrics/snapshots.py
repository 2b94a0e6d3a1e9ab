"""Metric snapshots for integration partners: totals so far per item and per campaign,
published for those whose figures changed since their last snapshot.

Ingestion marks what changed (`snapshot_due`); this schedule claims marks with
SKIP LOCKED, emits one snapshot each and deletes the marks in the same transaction, so
each change leads to one snapshot even with several replicas. Snapshots hold figures
about content only, never about a person.
"""

from collections import defaultdict
from datetime import datetime

from schemas.metrics import Figures, MetricSnapshot, Snapshot, SnapshotScope
from services.metrics.domain import RateCard, Totals
from services.metrics.reports import figures
from services.runtime.unit_of_work import UnitOfWork

_CLAIM = """DELETE FROM snapshot_due WHERE (scope, id) IN (
    SELECT scope, id FROM snapshot_due ORDER BY scope, id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING scope, id"""
_TOTALS = """
WITH s AS (SELECT * FROM shares WHERE NOT cancelled AND CASE $1 WHEN 'item' THEN item_id ELSE campaign_id END = ANY($2::text[]))
SELECT CASE $1 WHEN 'item' THEN s.item_id ELSE s.campaign_id END AS key, s.network,
       count(*) AS shares, sum(c.clicks) AS clicks, sum(c.unique_clicks) AS unique_clicks,
       sum(e.impressions) AS impressions, sum(e.reactions) AS reactions, sum(e.comments) AS comments,
       sum(e.reshares) AS reshares, sum(s.potential_reach) AS potential_reach
FROM s
LEFT JOIN (SELECT share_id, sum(clicks) AS clicks, count(*) AS unique_clicks FROM clicks
           WHERE NOT bot AND share_id IN (SELECT share_id FROM s) GROUP BY share_id) c USING (share_id)
LEFT JOIN engagement e USING (share_id)
GROUP BY 1, 2"""


def snapshotter(events_topic: str, card: RateCard, batch: int = 500):
    async def publish_due(uow: UnitOfWork, now: datetime) -> int:
        claimed = await uow.conn.fetch(_CLAIM, batch)
        for scope in SnapshotScope:
            ids = [r["id"] for r in claimed if r["scope"] == scope.value]
            if not ids:
                continue
            per_key: dict[str, dict[str, Totals]] = defaultdict(dict)
            for row in await uow.conn.fetch(_TOTALS, scope.value, ids):
                per_key[row["key"]][row["network"]] = Totals.of(row)
            await uow.emit_many(events_topic, MetricSnapshot, [
                (key, Snapshot(scope=scope, id=key, figures=Figures(**figures(networks, card)), as_of=now))
                for key, networks in sorted(per_key.items())])
        return len(claimed)

    return publish_due
