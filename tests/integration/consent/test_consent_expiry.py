"""Expiry: a durable, database-driven schedule expires each due consent exactly once."""

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg

from schemas.consent import ConsentExpired, Purpose
from services.consent import ledger
from tests.integration.consent.rig import new_advocate, of_type

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_consent_expires_after_the_configured_period_and_is_announced(consent_rig):
    clock = Clock(T0)
    async with consent_rig.serving(clock, consent_expiry_days=30):
        await consent_rig.publish_policies()
        advocate = new_advocate()
        await consent_rig.join(advocate)
        await consent_rig.person(advocate).give(Purpose.LEADERBOARD)
        clock.now = T0 + timedelta(days=29)
        await asyncio.sleep(0.6)  # three schedule passes: nothing is due yet
        assert await consent_rig.status(advocate, Purpose.LEADERBOARD) == "given"

        clock.now = T0 + timedelta(days=31)
        records = await consent_rig.events.until(lambda rs: of_type(rs, ConsentExpired), "expiry")

    [expired] = of_type(records, ConsentExpired)
    assert (expired["subject"], expired["data"]["purpose"], expired["data"]["valid"]) == (advocate, "leaderboard", False)
    assert (expired["data"]["status"], expired["data"]["changed_by"]) == ("expired", "controller")
    assert datetime.fromisoformat(expired["data"]["changed_at"]) == T0 + timedelta(days=30)  # when it fell due


async def test_a_restart_during_an_expiry_run_expires_each_due_consent_exactly_once(consent_rig):
    """Deterministic: the first instance expires the early consents, then its run of the late
    ones is held mid-pass (a side connection holds the ledger's lock, which a pass takes after
    claiming and updating its batch) and the instance is stopped right there."""
    clock, early, late = Clock(T0), [new_advocate() for _ in range(20)], [new_advocate() for _ in range(20)]
    due = (len(early) + len(late)) * len(Purpose)
    options = {"consent_expiry_days": 30, "consent_expiry_batch_size": 10}
    count_expired = lambda: consent_rig.fetchval("SELECT count(*) FROM consents WHERE status = 'expired'")  # noqa: E731
    count_given = lambda: consent_rig.fetchval("SELECT count(*) FROM consents")  # noqa: E731
    gate = await asyncpg.connect(consent_rig.settings.database_url)
    try:
        async with consent_rig.serving(clock, **options):
            await consent_rig.publish_policies()
            await consent_rig.join(*early, *late)
            # Due at T0 + 30 days, then (given at T0 + 10 days) at T0 + 40 days.
            await asyncio.gather(*[consent_rig.person(a).give(p) for a in early for p in Purpose])
            clock.now = T0 + timedelta(days=10)
            await asyncio.gather(*[consent_rig.person(a).give(p) for a in late for p in Purpose])
            assert await count_given() == due
            clock.now = T0 + timedelta(days=31)
            await consent_rig.until(count_expired, len(early) * len(Purpose), what="the early run")

            gate_held = gate.transaction()
            await gate_held.start()
            await gate.execute(ledger._LOCK)
            clock.now = T0 + timedelta(days=41)
            await consent_rig.until(lambda: gate.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", gate.get_server_pid()),
                1, what="a pass of the late run to wait for the ledger")
        # Stopped mid-pass: the held pass rolled back, nothing of the late run is expired.
        await gate_held.rollback()
        assert await count_expired() == len(early) * len(Purpose)
    finally:
        await gate.close()

    async with consent_rig.build(clock, **options).running():
        await consent_rig.until(count_expired, due, what="all expired after the restart")
        records = await consent_rig.events.until(
            lambda rs: len({e["id"] for e in of_type(rs, ConsentExpired)}) >= due, "expiry events", settle=1.0)

    # Distinct event ids: a relay stopped between send and delete may re-send one; consumers dedupe by id.
    expired_ids = {(e["data"]["advocate_id"], e["data"]["purpose"]): set() for e in of_type(records, ConsentExpired)}
    for e in of_type(records, ConsentExpired):
        expired_ids[(e["data"]["advocate_id"], e["data"]["purpose"])].add(e["id"])
    assert len(expired_ids) == due and all(len(ids) == 1 for ids in expired_ids.values())
    entries = await consent_rig.fetch("SELECT subject_ref, purpose, count(*) AS n FROM ledger WHERE change = 'expired' "
                                      "GROUP BY subject_ref, purpose")
    assert len(entries) == due and {r["n"] for r in entries} == {1}
