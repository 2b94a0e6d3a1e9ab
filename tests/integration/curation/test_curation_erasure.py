"""Erasure (GDPR Art. 17): when consent announces AdvocateErased, curation's copy of the
directory forgets the advocate; nothing in curation's schema holds their id any more.
Curation reads every consent event for this; the others it passes over."""

from datetime import UTC, datetime

from harness.kafka import drained, eventually, message_count
from schemas import consent
from schemas import curation as c
from schemas import directory as d
from tests.integration.curation.curation_rig import command, content

ERASED, STAYING = "adv-erased-000001", "adv-staying-00001"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def erased(advocate_id: str) -> consent.AdvocateErased:
    return consent.AdvocateErased(source="/test/consent", subject=advocate_id,
                                  data=consent.AdvocateErasure(advocate_id=advocate_id, erased_at=NOW))


def given(advocate_id: str) -> consent.ConsentGiven:
    return consent.ConsentGiven(source="/test/consent", subject=advocate_id, data=consent.ConsentRecord(
        advocate_id=advocate_id, purpose=consent.Purpose.RECEIVE_CONTENT, status=consent.Status.GIVEN, valid=True,
        changed_by=consent.ChangedBy.SUBJECT, changed_at=NOW, ledger_hash="0" * 64))


async def test_an_erased_advocate_leaves_no_row_in_the_curation_schema(curation):
    async with curation.build().running():
        await curation.send_to(curation.topics.directory, *[
            d.PersonJoined(source="/test/hr", subject=a, data=d.Profile(advocate_id=a, role=d.Role.EMPLOYEE))
            for a in (ERASED, STAYING)])
        await eventually(lambda: _people_are(curation, {ERASED, STAYING}), what="both to join")
        assert await _tables_holding(curation, ERASED) == ["people"]

        await curation.send_to(curation.topics.consent_events, given(STAYING), erased(ERASED))
        await eventually(lambda: _people_are(curation, {STAYING}), what="the erasure")
        consent_events = curation.topics.consent_events
        await eventually(lambda: drained(curation.bootstrap, f"{curation.settings.service}.{consent_events}",
                                         consent_events), what="the consent given passed over too")

    assert await _tables_holding(curation, ERASED) == []
    assert await _tables_holding(curation, STAYING) == ["people"]
    assert await message_count(curation.bootstrap, curation.settings.dead_letter_topic) == 0


async def test_an_erased_editors_actions_stay_in_the_audit_trail_but_not_who_did_them(curation):
    """Editors are people too: once erased, their id is gone from items' authors, campaigns'
    owners and the audit trail, which keeps what was done, when, and through which door."""
    editor, approver = "editor-erased-01", "editor-staying-1"
    item, campaign = "item-erasure-0001", "campaign-erasure-1"
    async with curation.serving():
        await curation.send(command(c.CreateCampaign, campaign, editor, name="Plant", starts_on="2026-11-01",
                                    ends_on="2026-12-31", owner=editor),
                            command(c.DraftItem, item, editor, content=content()),
                            command(c.SubmitItem, item, editor))
        await curation.approve_once_in_review(item, approver)
        revised = {"content": content(summary="Revised by the erased editor").model_dump(mode="json")}
        assert (await curation.as_(editor, ("editor",), "PUT", f"/api/items/{item}", revised)).status_code == 200
        assert {"audit", "campaigns", "items"} <= set(await _tables_holding(curation, editor))

        await curation.send_to(curation.topics.consent_events, erased(editor))
        await eventually(lambda: _holds_nothing_of(curation, editor), what="the erasure")
        trail = await curation.as_(approver, ("editor",), "GET", f"/api/audit?subject={item}")

    assert [(e["actor"], e["action"], e["channel"]) for e in trail.json()["items"]] == [
        ("erased", "item.edit", "api"), (approver, "item.approve", "api"),
        ("erased", "item.submit", "kafka"), ("erased", "item.draft", "kafka")]
    assert await _tables_holding(curation, approver) == ["audit"]
    [row] = await curation.fetch("SELECT authors, drafted_by, edited_by FROM items WHERE id = $1", item)
    assert (row["authors"], row["drafted_by"], row["edited_by"]) == (["erased"], "erased", ["erased"])
    assert await curation.fetchval("SELECT owner FROM campaigns WHERE id = $1", campaign) == "erased"


async def _holds_nothing_of(curation, advocate_id: str) -> bool:
    return await _tables_holding(curation, advocate_id) == []


async def _people_are(curation, advocates: set[str]) -> bool:
    return {r["advocate_id"] for r in await curation.fetch("SELECT advocate_id FROM people")} == advocates


async def _tables_holding(curation, advocate_id: str) -> list[str]:
    """Every table of the schema with a row whose text mentions `advocate_id` in any column."""
    tables = await curation.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' "
        "ORDER BY table_name", curation.settings.service)
    holding = []
    for table in (r["table_name"] for r in tables):
        rows = await curation.fetch(f'SELECT 1 FROM "{table}" t WHERE strpos(t::text, $1) > 0 LIMIT 1', advocate_id)
        holding += [table] if rows else []
    return holding
