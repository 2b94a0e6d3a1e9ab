"""Who may read what (ADR 0018): platform.toml's `personal = false` claims hold for the
contracts on those topics, a partner may read only such topics, and the declaration refuses
anything else. The secured broker proves the ACLs follow (tests/integration/security)."""

import pytest

from schemas import distribution
from schemas.catalog import CONTRACTS
from schemas.platform import PARTNER, load_platform
from services.distribution.domain import audience_told
from tests.personal import personal_types

PLATFORM = load_platform()


@pytest.mark.parametrize("topic", [t for t in PLATFORM.topics if not t.name.endswith(".deadletter.v1")],
                         ids=lambda t: t.name)
def test_a_topic_is_declared_personal_exactly_when_its_contracts_tell_about_a_person(topic):
    assert topic.personal == bool(personal_types(topic.name)), personal_types(topic.name)


def test_a_partner_reads_only_aggregates_and_per_item_facts_and_a_connector_only_its_posts():
    assert {t.name for t in PLATFORM.topics if PARTNER in t.readers} == {
        "advocacy.curation.events.v1", "advocacy.consent.policies.v1", "advocacy.distribution.items.v1",
        "advocacy.metrics.events.v1"}
    assert {t.name for t in PLATFORM.topics if "connector" in t.readers} == {distribution.POSTS_TOPIC}
    assert {c.model_fields["type"].default for c in CONTRACTS[distribution.POSTS_TOPIC]} == {
        "advocacy.distribution.share.publish.requested.v1", "advocacy.distribution.share.publish.cancelled.v1",
        "advocacy.distribution.share.retraction.requested.v1"}


def test_the_declaration_refuses_a_personal_topic_a_partner_may_read(tmp_path):
    declaration = tmp_path / "platform.toml"
    declaration.write_text('[principals.partner]\n[topics."advocacy.consent.events.v1"]\n'
                           'writers = []\nreaders = ["partner"]\n')
    with pytest.raises(ValueError, match="personal data"):
        load_platform(declaration)
    declaration.write_text(declaration.read_text() + "personal = false\n")
    assert load_platform(declaration).topics[0].readers == ("partner",)


@pytest.mark.parametrize(("size", "told"), [(0, (None, True)), (1, (None, True)), (4, (None, True)),
                                             (5, (5, False)), (6000, (6000, False))])
def test_an_audience_below_k_is_told_as_fewer_than_k(size, told):
    assert audience_told(size, k=5) == told
