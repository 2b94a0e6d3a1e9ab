"""An advocate exports their consent history as a receipt: JSON and text."""

import json

from schemas.consent import ConsentWithdrawn, Purpose
from services.consent import cli
from tests.integration.consent.rig import new_advocate, of_type


async def test_the_receipt_shows_status_policy_method_history_and_how_to_withdraw(consent, monkeypatch):
    advocate, other = new_advocate(), new_advocate()
    await consent.join(advocate, other)
    person = consent.person(advocate)
    await person.give(Purpose.RECEIVE_CONTENT)
    await person.give(Purpose.LEADERBOARD)
    await person.withdraw(Purpose.LEADERBOARD)
    await consent.person(other).give(Purpose.LEADERBOARD)
    await consent.events.until(lambda rs: of_type(rs, ConsentWithdrawn), "withdrawn")
    policy_hash = await consent.fetchval("SELECT content_hash FROM policies WHERE purpose = 'leaderboard'")
    monkeypatch.setenv("DATABASE_URL", consent.settings.database_url)

    document = json.loads(await cli.export_receipt(advocate, as_text=False))
    assert document["advocate_id"] == advocate and document["controller"]["name"]
    assert "POST /api/me/consents/withdraw" in document["withdrawal_method"]
    purposes = {p["purpose"]: p for p in document["purposes"]}
    assert set(purposes) == {"receive_content", "leaderboard"}  # only what the advocate acted on
    leaderboard = purposes["leaderboard"]
    assert (leaderboard["status"], leaderboard["valid"], leaderboard["policy_version"], leaderboard["policy_hash"]) == (
        "withdrawn", False, 1, policy_hash)
    assert [(h["change"], h["collection_method"], h["changed_by"]) for h in leaderboard["history"]] == [
        ("given", "web_form", "subject"), ("withdrawn", None, "subject")]
    assert purposes["receive_content"]["valid"] is True and purposes["receive_content"]["expires_at"]

    text = await cli.export_receipt(advocate, as_text=True)
    assert f"for {advocate}" in text and "leaderboard: withdrawn (not valid), policy v1" in text
    assert other not in text and other not in json.dumps(document)
