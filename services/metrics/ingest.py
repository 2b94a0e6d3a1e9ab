"""Counting a batch: shares, clicks, connectors' observations and follower counts.

`Inbox.handle_batch_once` hands over the events of one batch not seen before (by event
id), in one transaction; here they are sorted by kind, merged in memory where several
touch one row, and written with one statement per table.
"""

from collections import Counter
from typing import Annotated, Union

from pydantic import Field, TypeAdapter

from schemas import distribution, engagement
from schemas.catalog import CONTRACTS
from services.metrics import store
from services.metrics.domain import COUNTERS, keep_highest
from services.runtime.unit_of_work import UnitOfWork

# Both counted topics are decoded with the union of their types: every type on them
# decodes (what is not counted is skipped by type), and an unknown one is dead-lettered.
_TYPES = tuple(CONTRACTS[distribution.EVENTS_TOPIC] + CONTRACTS[engagement.TOPIC])
Counted = TypeAdapter(Annotated[Union[_TYPES], Field(discriminator="type")])  # noqa: UP007


async def count(uow: UnitOfWork, events: list) -> None:
    shares, cancelled, observations, followers = [], [], [], {}
    clicks: Counter[tuple] = Counter()
    bots: set[tuple] = set()
    for event in events:
        d = event.data
        if isinstance(event, distribution.ShareCreated):
            shares.append((d.share_id, d.advocate_id, d.item_id, d.campaign_id, d.network.value, d.created_at.date()))
        elif isinstance(event, distribution.LinkClicked):
            key = (d.share_id, d.clicked_at.date(), d.visitor)
            clicks[key] += 1
            if d.bot:
                bots.add(key)
        elif isinstance(event, engagement.EngagementObserved):
            observations.append((d.share_id, [getattr(d, c) for c in COUNTERS], d.observed_at))
        elif isinstance(event, engagement.FollowersReported):
            known = followers.get((d.advocate_id, d.network.value))
            if known is None or known[1] < d.observed_at:  # the latest report is the count
                followers[(d.advocate_id, d.network.value)] = (d.followers, d.observed_at)
        elif isinstance(event, distribution.ShareCancelled):
            cancelled.append(d.share_id)

    conn = uow.conn
    if shares:
        await store.add_shares(conn, shares)
    if cancelled:
        await store.cancel_shares(conn, cancelled)
    if clicks:
        await store.add_clicks(conn, [(s, day, v, (s, day, v) in bots, n) for (s, day, v), n in clicks.items()])
    if observations:
        merged = keep_highest((share_id, counters) for share_id, counters, _ in observations)
        latest = {share_id: at for share_id, _, at in sorted(observations, key=lambda o: o[2])}
        await store.keep_highest_engagement(conn, [(s, *c, latest[s]) for s, c in merged.items()])
    if followers:
        await store.set_followers(conn, [(a, n, f, at) for (a, n), (f, at) in followers.items()])
    touched = {s[0] for s in shares} | set(cancelled) | {k[0] for k in clicks} | {o[0] for o in observations}
    if touched:
        await store.mark_due(conn, list(touched))
