"""Bad input on the real stack: each refused command is answered with a reason code and
changes nothing; malformed messages are dead-lettered; a command delivered twice acts once."""

import json

from harness.kafka import eventually, produce, read_topic
from schemas import curation as c
from tests.integration.curation.curation_rig import about, command, content, rejections

ITEM = "item-bad-input-1"


async def test_each_rule_refuses_its_command_with_a_machine_readable_reason(curation):
    refused = [
        (command(c.DraftItem, "item-js-000001", content=content(source_url="javascript:alert(1)")), "invalid_url"),
        (command(c.DraftItem, "item-data-00001", content=content(image_url="data:image/png;base64,AA")), "invalid_url"),
        (command(c.DraftItem, "item-long-00001", content=content(title="t" * 301)), "too_long"),
        (command(c.DraftItem, "item-x-0000001", content=content(share_texts={"x": "x" * 260})), "share_text_too_long"),
        (command(c.DraftItem, "item-camp-00001", content=content(campaign_id="no-such-campaign")), "unknown_campaign"),
        (command(c.RegisterSource, "source-file-01", url="file:///etc/passwd", language="en"), "invalid_url"),
        (command(c.CreateCampaign, "campaign-bad-1", name="Launch", starts_on="2026-12-01",
                 ends_on="2026-11-01", owner="editor-a"), "invalid_period"),
    ]
    bare = command(c.DraftItem, ITEM, content=content(summary="", share_texts={}, disclosure=None))
    incomplete_submission = command(c.SubmitItem, ITEM)
    unreasoned_retraction = command(c.RetractItem, ITEM, reason="")
    async with curation.build().running():
        await curation.send(*(cmd for cmd, _ in refused), bare, incomplete_submission, unreasoned_retraction)
        events = await curation.events(at_least=len(refused) + 3)

    assert rejections(events) == {
        **{cmd.id: reason for cmd, reason in refused},
        incomplete_submission.id: "missing_field", unreasoned_retraction.id: "missing_field",
    }
    missing = next(e for e in events
                   if isinstance(e, c.CurationCommandRejected) and e.data.command_id == incomplete_submission.id)
    assert missing.data.detail == "required: disclosure, share_texts, summary"
    # A refused command leaves nothing behind: only the complete draft exists.
    assert [r["id"] for r in await curation.fetch("SELECT id FROM items")] == [ITEM]
    assert await curation.fetch("SELECT id FROM sources UNION ALL SELECT id FROM campaigns") == []
    assert about(events, ITEM) == ["drafted", "rejected", "rejected"]


async def test_malformed_commands_are_dead_lettered_and_the_next_command_is_handled(curation):
    valid = command(c.DraftItem, ITEM, content=content())
    with_email = json.loads(valid.to_bytes())
    with_email["id"] = "cmd-with-email"
    with_email["data"]["email"] = "editor@example.com"
    unknown_type = {**json.loads(valid.to_bytes()), "id": "cmd-unknown", "type": "advocacy.curation.item.boost.v1"}
    bad_subject = {**json.loads(valid.to_bytes()), "id": "cmd-bad-subject", "subject": "a b"}
    poison = [b"{not json", json.dumps(with_email).encode(), json.dumps(unknown_type).encode(),
              json.dumps(bad_subject).encode()]
    async with curation.build().running():
        await produce(curation.bootstrap, curation.topics.commands, [(ITEM.encode(), p) for p in poison])
        await curation.send(valid)
        events = await curation.events(at_least=1)

        async def all_dead_lettered() -> bool:
            return len(await read_topic(curation.bootstrap, curation.settings.dead_letter_topic, 0, settle=0.2)) >= 4

        await eventually(all_dead_lettered, what="four dead letters")

    assert about(events, ITEM) == ["drafted"]
    dead = await read_topic(curation.bootstrap, curation.settings.dead_letter_topic, at_least=4, settle=0.5)
    assert [d.value for d in dead] == poison
    reasons = [dict(d.headers)["dlq-error-message"].decode() for d in dead]
    assert "email" in reasons[1] and "example.com" not in reasons[1]


async def test_a_command_delivered_twice_has_one_effect_and_one_answer(curation):
    draft = command(c.DraftItem, ITEM, content=content())
    own_approval = command(c.ApproveItem, ITEM)
    async with curation.build().running():
        await curation.send(draft, draft, own_approval, own_approval)
        events = await curation.events(at_least=2, settle=1.5)

    assert about(events, ITEM) == ["drafted", "rejected"]
