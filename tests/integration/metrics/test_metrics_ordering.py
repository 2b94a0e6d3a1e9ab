"""Consent changes apply in the order consent made them (ADR 0019): by their sequence,
never by their times or by the order they happen to arrive in."""

from schemas.consent import Purpose
from tests.integration.metrics.conftest import new_id
from tests.integration.rig import next_sequence


async def test_a_late_given_does_not_undo_a_later_withdrawal(metrics):
    advocate = new_id("adv")
    earlier, later = next_sequence(), next_sequence()
    withdrawn = metrics.consent_event(advocate, Purpose.SHARE_ATTRIBUTION, valid=False, sequence=later)
    late_given = metrics.consent_event(advocate, Purpose.SHARE_ATTRIBUTION, sequence=earlier)  # e.g. replayed
    marker = metrics.consent_event(advocate, Purpose.LEADERBOARD)  # same key, after both
    await metrics.send_to(metrics.topics.consent_events, withdrawn, late_given, marker)
    await metrics.until("SELECT count(*) FROM consents WHERE advocate_id = $1", 2, advocate)

    assert await metrics.fetchval("SELECT valid FROM consents WHERE advocate_id = $1 AND purpose = $2",
                                  advocate, Purpose.SHARE_ATTRIBUTION.value) is False
    share = metrics.share(advocate, "item-00000001")
    await metrics.send_to(metrics.topics.distribution_events, share)
    await metrics.drained(metrics.topics.distribution_events)
    assert await metrics.count("attributed_shares") == 0
