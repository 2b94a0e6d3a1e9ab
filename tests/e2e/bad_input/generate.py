"""Generated inputs for every topic a service reads: valid documents of each contract on
it, spoiled by a drawn mutation. Drawn offline with a fixed seed, all at once, so that the
batch goes through Kafka once (an example per round trip would take hours).

Messages that would change more than the run's own ids on the shared platform are left
out: a new consent policy (every consent would need renewal), a feed source (polled for
ever), a ledger check or an unscoped report (expensive), an item for everybody's feed.
"""

from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from schemas import consent, curation, metrics
from schemas.catalog import CONTRACTS
from schemas.envelope import CloudEvent
from tests.e2e.bad_input.contracts import decode, readers
from tests.e2e.bad_input.inputs import Input, from_doc, new_id
from tests.e2e.bad_input.mutations import spoiled
from tests.e2e.bad_input.strategies import envelopes

_LEFT_OUT = (consent.PublishPolicy, consent.VerifyLedger, curation.RegisterSource)


def contracts_on(topic: str) -> list[type[CloudEvent[Any]]]:
    return [c for c in CONTRACTS[topic] if c not in _LEFT_OUT]


def harmless(topic: str, doc: dict[str, Any], tag: str) -> bool:
    """False for a document that decodes as something that reaches beyond the run's ids."""
    try:
        event = decode(topic, doc)
    except (ValueError, TypeError):
        return True  # it will be dead-lettered
    if isinstance(event, _LEFT_OUT):
        return False
    if isinstance(event, metrics.RenderReport) and event.data.campaign_id is None:
        return False
    if isinstance(event, curation.ItemPublished | curation.ItemUpdated):
        return event.data.content.audience.org_units == [tag]
    return True


def _tame(doc: dict[str, Any], tag: str) -> dict[str, Any]:
    """An item only for an org unit nobody is in: no fan-out to the platform's people."""
    content = doc["data"].get("content") if isinstance(doc.get("data"), dict) else None
    if isinstance(content, dict):
        content["audience"] = {"org_units": [tag]}
    return doc


def draw_inputs(topic: str, count: int, tag: str, seed_value: int) -> list[Input]:
    """`count` generated inputs for `topic` (fewer if hypothesis runs out of distinct ones)."""
    drawn: list[Input] = []
    documents = st.sampled_from(contracts_on(topic)).flatmap(lambda c: envelopes(c, tag))

    @seed(seed_value)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        unique = new_id(tag)
        doc = _tame({**data.draw(documents), "id": unique}, tag)
        category, spoilt = data.draw(spoiled(doc))
        if isinstance(spoilt, dict):
            if isinstance(spoilt.get("id"), str) and not spoilt["id"].startswith(unique):
                spoilt["id"] = unique + spoilt["id"]  # ids stay unique whatever the mutation did
            if "id" not in spoilt or not harmless(topic, spoilt, tag):
                return  # untraceable (the envelope invents an id: reported in the issue) or harmful
            ascii_only = data.draw(st.booleans())
            drawn.append(from_doc(topic, spoilt, category, ascii_only=ascii_only))
        else:
            drawn.append(Input(topic, spoilt, category, key=unique.encode(), id=None))

    collect()
    return drawn


def generated(count_per_topic: int, tag: str, seed_value: int) -> list[Input]:
    return [i for n, topic in enumerate(sorted(readers()))
            for i in draw_inputs(topic, count_per_topic, tag, seed_value + n)]
