"""What counts as "about one person" on a topic, found in the contracts themselves rather
than taken from platform.toml's `personal` flags, so that the declaration can be checked
against it (tests/unit/test_topic_audiences.py) and the secured broker too
(tests/integration/security/test_security_kafka_acls.py). ADR 0018."""

from typing import Any

from pydantic import BaseModel

from schemas import consent, distribution, metrics
from schemas.catalog import CONTRACTS
from schemas.envelope import CloudEvent

# A field that names a person, or leads to one: the advocate's id; a share's id (joined to
# `share.created` it names the sharer); a visitor's hash; a post's or share's text (the
# person's own words, edited).
PERSONAL_FIELDS = frozenset({"advocate_id", "share_id", "visitor", "text", "post"})
# The same names where they mean something else: a policy's text is the privacy office's.
NOT_PERSONAL_IN: dict[type[BaseModel], frozenset[str]] = {consent.PolicyVersion: frozenset({"text"})}

# Rejections whose reasons tell who is in the directory (`not_in_directory`) or who allows
# attribution or scheduled sharing: consent's and distribution's. Metrics' reasons include
# `attribution_not_consented` too, but on Kafka it answers every command `sign_in_required`
# before any rule is looked at (tests/integration/metrics/test_metrics_api.py), so its
# rejections name no person's choice.
ORACLE_REJECTIONS: frozenset[type[CloudEvent[Any]]] = frozenset(
    {consent.ConsentCommandRejected, distribution.DistributionCommandRejected})
assert metrics.MetricsCommandRejected not in ORACLE_REJECTIONS


def fields_of(model: Any) -> set[str]:
    """Every field name in `model`, nested models' included."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return set()
    names = set()
    for name, info in model.model_fields.items():
        if name not in NOT_PERSONAL_IN.get(model, frozenset()):
            names.add(name)
        for arg in (info.annotation, *getattr(info.annotation, "__args__", ())):
            names |= fields_of(arg)
    return names


def tells_about_a_person(contract: type[CloudEvent[Any]]) -> bool:
    data = contract.model_fields["data"].annotation
    return contract in ORACLE_REJECTIONS or bool(fields_of(data) & PERSONAL_FIELDS)


def personal_types(topic: str) -> list[str]:
    """The event types on `topic` that tell something about one person."""
    return [c.model_fields["type"].default for c in CONTRACTS[topic] if tells_about_a_person(c)]
