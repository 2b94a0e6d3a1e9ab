"""Consent changes apply in the order consent made them (ADR 0019): by their sequence,
never by their times or by the order they happen to arrive in."""

from datetime import timedelta

from schemas.consent import Purpose
from tests.integration.metrics.conftest import DAY, new_id
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


async def test_only_people_who_allow_attribution_keep_a_token_and_a_withdrawal_removes_it(metrics):
    [fan] = await metrics.people(1, "Sales", Purpose.SHARE_ATTRIBUTION)
    [quiet] = await metrics.people(1, "Sales")
    first = [metrics.share(fan, "item-00000001"), metrics.share(quiet, "item-00000001"),
             metrics.share(quiet, "item-00000002")]
    await metrics.send_to(metrics.topics.distribution_events, *first)
    await metrics.drained(metrics.topics.distribution_events)
    assert [r["advocate_id"] for r in await metrics.fetch("SELECT advocate_id FROM contributors")] == [fan]
    # The quiet one's two shares of one day count as one contributor, under no kept key.
    tokens = await metrics.fetch("SELECT share_id, contributor FROM shares")
    by_share = {r["share_id"]: r["contributor"] for r in tokens}
    assert by_share[first[1].data.share_id] == by_share[first[2].data.share_id] != by_share[first[0].data.share_id]

    await metrics.consent(fan, Purpose.SHARE_ATTRIBUTION, valid=False)
    await metrics.until("SELECT count(*) FROM contributors", 0, what="the fan's token gone with the withdrawal")
    later = metrics.share(fan, "item-00000003")
    await metrics.send_to(metrics.topics.distribution_events, later)
    await metrics.drained(metrics.topics.distribution_events)
    assert await metrics.count("contributors") == 0
    assert await metrics.count("shares") == 4  # still counted, as no one's


async def test_nothing_that_arrives_after_an_erasure_brings_the_person_back(metrics):
    [gone] = await metrics.people(1, "Sales", Purpose.SHARE_ATTRIBUTION, Purpose.NETWORK_REACH)
    await metrics.erase(gone)
    await metrics.until("SELECT count(*) FROM people WHERE advocate_id = $1", 0, gone, what="the erasure")
    # Late: a share from before the erasure, a consent record and a profile replayed.
    await metrics.send_to(metrics.topics.distribution_events, metrics.share(gone, "item-00000001"))
    await metrics.consent(gone, Purpose.SHARE_ATTRIBUTION)
    await metrics.join(gone, org_unit="Sales", location="Bern")
    await metrics.drained(metrics.topics.distribution_events, metrics.topics.consent_events, metrics.topics.directory)

    assert await metrics.count("shares") == 1  # the aggregate stays, as no one's
    tables = [r["table_name"] for r in await metrics.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]
    for table in tables:
        rows = await metrics.fetch(f"SELECT t::text AS row FROM {table} t")
        assert not [r for r in rows if gone in r["row"]], table


async def test_one_person_without_attribution_is_one_contributor_in_a_week_and_another_the_next(metrics):
    """Disclosure control counts people per whole week (ADR 0020): the token of someone who
    does not allow attribution lasts their week, so sharing on three days of it makes them
    one towards k, not three; the next week they are no one linkable to that."""
    [quiet] = await metrics.people(1, "Sales")
    monday = DAY - timedelta(days=DAY.weekday())
    days = [monday, monday + timedelta(days=2, hours=5), monday + timedelta(days=6, hours=14),  # Sunday 23:00
            monday + timedelta(days=7)]
    await metrics.send_to(metrics.topics.distribution_events, *[metrics.share(quiet, "item-00000001", at=d)
                                                               for d in days])
    await metrics.drained(metrics.topics.distribution_events)

    tokens = [r["contributor"] for r in await metrics.fetch("SELECT contributor FROM shares ORDER BY day")]
    assert len(set(tokens[:3])) == 1 and tokens[3] != tokens[0]
