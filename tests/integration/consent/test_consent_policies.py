"""Policy versions: published by version, hashed; one that requires renewal invalidates consents."""

import hashlib

from schemas.consent import ConsentGiven, ConsentRenewalRequested, PolicyPublished, Purpose
from tests.integration.consent.rig import new_advocate, of_type, publish, rejections_of


async def test_a_published_version_is_announced_with_its_content_hash(consent):
    records = await consent.events.until(lambda rs: of_type(rs, PolicyPublished, purpose="leaderboard"), "published")
    [published] = of_type(records, PolicyPublished, purpose="leaderboard")
    assert published["subject"] == "leaderboard" and published["data"]["version"] == 1
    assert published["data"]["content_hash"] == hashlib.sha256(published["data"]["text"].encode()).hexdigest()
    assert await consent.fetchval("SELECT current_version FROM purposes WHERE purpose = 'leaderboard'") == 1


async def test_a_version_that_is_not_newer_is_rejected(consent):
    again = publish(Purpose.LEADERBOARD, 1)
    await consent.send(again)
    records = await consent.events.until(lambda rs: rejections_of(rs, again), "rejection")
    assert rejections_of(records, again) == ["policy_version_not_newer"]


async def test_a_version_requiring_renewal_moves_valid_consents_to_renewal_requested(consent):
    first, second = new_advocate(), new_advocate()
    await consent.join(first, second)
    await consent.person(first).give(Purpose.NETWORK_REACH)
    await consent.person(second).give(Purpose.NETWORK_REACH)
    await consent.person(first).give(Purpose.LEADERBOARD)
    await consent.events.until(lambda rs: len(of_type(rs, ConsentGiven)) == 3, "three given")

    await consent.send(publish(Purpose.NETWORK_REACH, 2, requires_renewal=True))
    records = await consent.events.until(lambda rs: len(of_type(rs, ConsentRenewalRequested)) == 2, "renewals",
                                         settle=0.5)
    renewals = of_type(records, ConsentRenewalRequested)
    assert sorted(e["data"]["advocate_id"] for e in renewals) == sorted([first, second])
    assert {(e["data"]["status"], e["data"]["valid"], e["data"]["changed_by"]) for e in renewals} == {
        ("renewal_requested", False, "controller")}
    assert await consent.status(first, Purpose.LEADERBOARD) == "given"  # other purposes untouched

    # Giving again under the new version renews the consent.
    await consent.person(first).give(Purpose.NETWORK_REACH, version=2)
    records = await consent.events.until(lambda rs: of_type(rs, ConsentGiven, status="renewed_given"), "renewed")
    [renewed] = of_type(records, ConsentGiven, status="renewed_given")
    assert (renewed["data"]["advocate_id"], renewed["data"]["policy_version"], renewed["data"]["valid"]) == (
        first, 2, True)


async def test_a_version_not_requiring_renewal_keeps_consents_valid_under_the_version_shown(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    await consent.person(advocate).give(Purpose.LEADERBOARD)
    await consent.events.until(lambda rs: of_type(rs, ConsentGiven, advocate_id=advocate), "given")
    await consent.send(publish(Purpose.LEADERBOARD, 2))  # keyed by purpose: sent after, not just behind
    await consent.events.until(lambda rs: of_type(rs, PolicyPublished, purpose="leaderboard", version=2), "v2",
                               settle=0.5)
    assert of_type(consent.events.records, ConsentRenewalRequested) == []
    rows = await consent.fetch("SELECT status, policy_version FROM consents WHERE advocate_id = $1", advocate)
    assert [(r["status"], r["policy_version"]) for r in rows] == [("given", 1)]
