"""Leaving the directory: the controller revokes every standing consent."""

from schemas import directory as d
from schemas.consent import ConsentRevoked, Purpose
from tests.integration.consent.rig import new_advocate, of_type


async def test_leaving_revokes_standing_consents_and_later_gives_are_refused(consent):
    leaver, stayer = new_advocate(), new_advocate()
    await consent.join(leaver, stayer)
    await consent.person(leaver).give(Purpose.RECEIVE_CONTENT)
    await consent.person(leaver).give(Purpose.LEADERBOARD)
    await consent.person(leaver).refuse(Purpose.NETWORK_REACH)
    await consent.person(stayer).give(Purpose.RECEIVE_CONTENT)

    await consent.send_to(consent.topics.directory, d.PersonLeft(source="/test/hr", subject=leaver, data=d.Departure(advocate_id=leaver)))
    records = await consent.events.until(lambda rs: len(of_type(rs, ConsentRevoked)) == 2, "revocations", settle=0.5)

    revoked = of_type(records, ConsentRevoked)
    assert sorted(e["data"]["purpose"] for e in revoked) == ["leaderboard", "receive_content"]
    assert {(e["subject"], e["data"]["status"], e["data"]["changed_by"]) for e in revoked} == {
        (leaver, "revoked", "controller")}
    assert await consent.status(leaver, Purpose.NETWORK_REACH) == "refused"  # a no stays a no
    assert await consent.status(stayer) == "given"
    assert await consent.fetchval("SELECT count(*) FROM people WHERE advocate_id = $1", leaver) == 0

    again = await consent.person(leaver).give(expect=403)
    assert again["reason"] == "not_in_directory"
    assert await consent.status(leaver) == "revoked"
