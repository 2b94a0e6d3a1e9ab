"""Malformed commands are dead-lettered; the consumer carries on; nothing is dropped silently.
Consent's commands are about people: their letters keep the headers, not the key or value
(ADR 0018)."""

import json

from harness.kafka import produce, read_topic
from tests.integration.consent.rig import give, new_advocate, rejections_of


async def test_malformed_commands_go_to_the_dead_letter_topic_and_the_next_is_handled(consent):
    advocate = new_advocate()
    await consent.join(advocate)
    valid = give(advocate)
    with_email = json.loads(valid.to_bytes())
    with_email["id"], with_email["data"]["email"] = "bad-1", "someone@example.com"
    wrong_subject = json.loads(valid.to_bytes())
    wrong_subject["id"], wrong_subject["subject"] = "bad-2", new_advocate()
    unknown_type = {**json.loads(valid.to_bytes()), "id": "bad-3", "type": "advocacy.consent.opt-in-everyone.v1"}
    poison = [b"{not json", *(json.dumps(m).encode() for m in (with_email, wrong_subject, unknown_type))]
    await produce(consent.bootstrap, consent.topics.commands,
                  [(advocate.encode(), p) for p in poison] + [(advocate.encode(), valid.to_bytes())])

    # The valid command is handled: answered, as every give on Kafka is, by a refusal.
    records = await consent.events.until(lambda rs: rejections_of(rs, valid), "the valid command")
    assert rejections_of(records, valid) == ["sign_in_required"]
    dead = await read_topic(consent.bootstrap, consent.settings.dead_letter_topic, at_least=len(poison), settle=0.5)
    assert [(d.key, d.value) for d in dead] == [(None, b"")] * len(poison)  # the person stays at the source
    headers = [{k: v.decode() for k, v in d.headers} for d in dead]
    assert [h.get("dlq-event-id") for h in headers] == [None, "bad-1", "bad-2", "bad-3"]
    assert [h.get("dlq-event-type") for h in headers[1:]] == [valid.type, valid.type, unknown_type["type"]]
    assert all(h["dlq-original-topic"] == consent.topics.commands and h["dlq-value-omitted"] for h in headers)
    assert not [h for h in headers if "example.com" in str(h) or advocate in str(h)]
    reasons = [dict(d.headers)["dlq-error-message"].decode() for d in dead]
    assert "data.email" in reasons[1] and "example.com" not in reasons[1]
    assert "subject must equal data.advocate_id" in reasons[2]
