"""Commands on Kafka are refused before any rule of the service's own if their record key is
not their subject, or if they are not fresh (ADR 0019): an old command replayed from the
dead letters after what followed it is not applied."""

from datetime import UTC, datetime, timedelta

from schemas.consent import AdvocateErased, PolicyPublished, Purpose
from tests.integration.consent.rig import erase, new_advocate, of_type, publish, rejections_of


async def test_a_command_keyed_by_someone_else_is_refused(consent):
    advocate, other = new_advocate(), new_advocate()
    await consent.join(advocate, other)
    command = erase(advocate, actor="officer-00000001")
    await consent.send_raw(consent.topics.commands, other.encode(), command.to_bytes())  # ordered with `other`'s
    records = await consent.events.until(lambda rs: rejections_of(rs, command), "the rejection")
    assert rejections_of(records, command) == ["key_not_subject"]
    assert of_type(records, AdvocateErased) == []
    assert await consent.count("people WHERE advocate_id = $1", advocate) == 1


async def test_a_command_older_than_the_freshness_window_is_refused_and_a_fresh_one_applied(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    old = erase(advocate, actor="officer-00000001").model_copy(
        update={"time": datetime.now(UTC) - timedelta(hours=25)})  # e.g. replayed from the dead letters
    ahead = publish(Purpose.LEADERBOARD, 2).model_copy(update={"time": datetime.now(UTC) + timedelta(days=30)})
    fresh = publish(Purpose.LEADERBOARD, 3)
    await consent.send(old, ahead, fresh)
    records = await consent.events.until(lambda rs: of_type(rs, PolicyPublished, version=3) and rejections_of(
        rs, old) and rejections_of(rs, ahead), "the fresh one applied, the others answered")
    assert rejections_of(records, old) == ["command_not_fresh"]
    assert rejections_of(records, ahead) == ["command_not_fresh"]
    assert of_type(records, AdvocateErased) == [] and of_type(records, PolicyPublished, version=2) == []
    assert await consent.count("people WHERE advocate_id = $1", advocate) == 1
