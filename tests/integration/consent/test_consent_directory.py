"""Leaving the directory: the controller revokes every standing consent."""

from schemas import directory as d
from schemas.consent import ConsentRevoked, Purpose
from tests.integration.consent.rig import give, new_advocate, of_type, refuse, rejections_of


async def test_leaving_revokes_standing_consents_and_later_gives_are_refused(consent):
    leaver, stayer = new_advocate(), new_advocate()
    await consent.join(leaver, stayer)
    await consent.send(give(leaver, Purpose.RECEIVE_CONTENT), give(leaver, Purpose.LEADERBOARD),
                       refuse(leaver, Purpose.NETWORK_REACH), give(stayer, Purpose.RECEIVE_CONTENT))
    await consent.until("SELECT count(*) FROM consents", 4, what="four consents")

    await consent.send_to(consent.topics.directory, d.PersonLeft(source="/test/hr", subject=leaver, data=d.Departure(advocate_id=leaver)))
    records = await consent.events.until(lambda rs: len(of_type(rs, ConsentRevoked)) == 2, "revocations", settle=0.5)

    revoked = of_type(records, ConsentRevoked)
    assert sorted(e["data"]["purpose"] for e in revoked) == ["leaderboard", "receive_content"]
    assert {(e["subject"], e["data"]["status"], e["data"]["changed_by"]) for e in revoked} == {
        (leaver, "revoked", "controller")}
    assert await consent.status(leaver, Purpose.NETWORK_REACH) == "refused"  # a no stays a no
    assert await consent.status(stayer) == "given"
    assert await consent.fetchval("SELECT count(*) FROM people WHERE advocate_id = $1", leaver) == 0

    again = give(leaver)
    await consent.send(again)
    records = await consent.events.until(lambda rs: rejections_of(rs, again), "rejection")
    assert rejections_of(records, again) == ["not_in_directory"]
