"""The hand-written corpus, part one: broken envelopes on every topic a service reads, each
dead-lettered by every reader; and the sentinels, valid messages sent after all the bad
ones to every partition, which every reader must still handle (no consumer is stuck)."""

import copy
import uuid
from collections.abc import Callable
from typing import Any

from schemas import consent, curation, directory, distribution, engagement, metrics
from schemas.envelope import CloudEvent
from schemas.platform import load_platform
from tests.e2e.bad_input import factories as f
from tests.e2e.bad_input.contracts import readers
from tests.e2e.bad_input.inputs import DEAD_LETTERED, HANDLED, REJECTED, Input, document, from_doc

# A valid message per input topic, to be spoiled (the sentinels are more of the same).
VALID: dict[str, Callable[[f.Ids], CloudEvent[Any]]] = {
    directory.TOPIC: lambda ids: f.person(ids),
    engagement.TOPIC: lambda ids: f.followers(ids),
    curation.COMMANDS_TOPIC: lambda ids: f.campaign(ids, "Sentinel campaign"),
    curation.EVENTS_TOPIC: lambda ids: curation.ItemDrafted(
        source=f.SOURCE, subject=(item := ids.new("item")), data=curation.DraftedItem(item_id=item)),
    consent.COMMANDS_TOPIC: lambda ids: f.withdraw(ids),  # a person's command: sign_in_required
    consent.EVENTS_TOPIC: lambda ids: f.consent_given(ids),
    distribution.COMMANDS_TOPIC: lambda ids: f.share_request(ids),  # a person's command: sign_in_required
    distribution.EVENTS_TOPIC: lambda ids: distribution.ItemDistributedV1(
        source=f.SOURCE, subject=(item := ids.new("item")),
        data=distribution.Distribution(item_id=item, audience_size=0, distributed_at=f.NOW)),
    metrics.COMMANDS_TOPIC: lambda ids: f.impact(ids, ids.new("adv"), ids.new("adv")),  # sign_in_required
}
# What acts for a person is taken only over HTTP, signed in: on Kafka, refused whatever it says
# (ADR 0006). Every command a person may send is such a command on these three topics; a
# refusal answers the sentinel just as well (it is an outcome naming it: the partition moves).
SENTINEL_REASONS = dict.fromkeys((consent.COMMANDS_TOPIC, distribution.COMMANDS_TOPIC, metrics.COMMANDS_TOPIC),
                                 "sign_in_required")


def _spoilt(doc: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of `doc` under an id of its own, with `changes` (a None value removes the field)."""
    doc = {**copy.deepcopy(doc), "id": str(uuid.uuid4())}
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def envelope_cases(topic: str, ids: f.Ids) -> list[Input]:
    """What no reader of `topic` can take: every one must be dead-lettered by each."""
    doc = document(VALID[topic](ids))
    dead = {"expected": DEAD_LETTERED}
    # No null value here: a record without one is a compacted topic's deletion of a key, not
    # bad input; the services skip it (tests/integration/test_dead_letters.py).
    raw = [("not JSON", b"{not json", "invalid_json"), ("empty", b"", "invalid_json"),
           ("not UTF-8", b"\xff\xfe{}", "invalid_json"),
           ("a JSON array", b"[1, 2]", "invalid_json")]
    cases = [Input(topic, value, category, key=ids.new("key").encode(), label=label, **dead)
             for label, value, category in raw]
    spoilt = [
        ("CloudEvents 2.0", _spoilt(doc, specversion="2.0"), "unknown_envelope_versions"),
        ("CloudEvents 0.3", _spoilt(doc, specversion="0.3"), "unknown_envelope_versions"),
        ("unknown type", _spoilt(doc, type="advocacy.unknown.thing.happened.v1"), "unknown_event_types"),
        ("next version of a type", _spoilt(doc, type=doc["type"].replace(".v1", ".v2")), "unknown_event_types"),
        ("no data", _spoilt(doc, data=None), "missing_fields"),
        ("no subject", _spoilt(doc, subject=None), "missing_fields"),
        ("empty id", _spoilt(doc, id=""), "missing_fields"),
        # Required on receipt: a default id would be new at every redelivery (applied twice).
        ("no id", _spoilt(doc, id=None), "missing_fields"),
        ("no specversion", _spoilt(doc, specversion=None), "unknown_envelope_versions"),
        ("data is a string", _spoilt(doc, data="{}"), "wrong_types"),
        ("time is not a time", _spoilt(doc, time="yesterday"), "wrong_types"),
        ("XML content", _spoilt(doc, datacontenttype="application/xml"), "wrong_types"),
        ("a name in data", _spoilt(doc, data={**doc["data"], "email": "someone@example.com"}), "unknown_fields"),
    ]
    cases += [from_doc(topic, d, category, label=label, **dead) for label, d, category in spoilt]
    return cases


def sentinels(ids: f.Ids) -> list[Input]:
    """One valid message per partition of every input topic, sent last."""
    found = []
    for topic in load_platform().topics:
        if topic.name not in readers():
            continue
        for partition in range(topic.partitions):
            reason = SENTINEL_REASONS.get(topic.name)
            found.append(from_doc(topic.name, document(VALID[topic.name](ids)), "valid_after_bad", label="sentinel",
                                  partition=partition, expected=REJECTED if reason else HANDLED, reason=reason))
    return found
