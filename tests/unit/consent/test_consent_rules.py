"""The consent rules, without broker or database."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from schemas.commands import Rejected
from schemas.consent import PolicyText, Purpose, Status
from services.consent import domain
from services.consent.domain import Policy

CURRENT = Policy(version=3, content_hash="a" * 64)


def reason(call) -> str:
    with pytest.raises(Rejected) as caught:
        call()
    return caught.value.reason


def test_only_the_advocate_themself_may_act_on_their_consent():
    domain.require_actor_is_subject("adv-00000001", "adv-00000001")
    assert reason(lambda: domain.require_actor_is_subject("manager-1", "adv-00000001")) == "actor_not_subject"


def test_consent_must_name_the_current_policy_version():
    assert domain.require_current_policy(3, CURRENT, Purpose.LEADERBOARD) == CURRENT
    assert reason(lambda: domain.require_current_policy(2, CURRENT, Purpose.LEADERBOARD)) == "outdated_policy_version"
    assert reason(lambda: domain.require_current_policy(4, CURRENT, Purpose.LEADERBOARD)) == "unknown_policy_version"
    assert reason(lambda: domain.require_current_policy(1, None, Purpose.LEADERBOARD)) == "unknown_policy_version"


def test_a_published_policy_version_must_be_newer_than_the_current_one():
    domain.require_newer_policy(1, None)
    domain.require_newer_policy(4, CURRENT)
    assert reason(lambda: domain.require_newer_policy(3, CURRENT)) == "policy_version_not_newer"
    assert reason(lambda: domain.require_newer_policy(2, CURRENT)) == "policy_version_not_newer"


@pytest.mark.parametrize(("before", "after"), [
    (None, Status.GIVEN), (Status.REFUSED, Status.GIVEN), (Status.WITHDRAWN, Status.GIVEN),
    (Status.REVOKED, Status.GIVEN), (Status.RENEWAL_REQUESTED, Status.RENEWED_GIVEN),
    (Status.EXPIRED, Status.RENEWED_GIVEN), (Status.GIVEN, Status.RENEWED_GIVEN),
])
def test_giving_again_after_a_renewal_request_or_expiry_is_a_renewal(before, after):
    assert domain.status_after_giving(before) == after


def test_only_given_and_renewed_given_are_valid_for_processing():
    assert domain.VALID == {Status.GIVEN, Status.RENEWED_GIVEN}
    assert all(s not in domain.VALID for s in Status if s not in (Status.GIVEN, Status.RENEWED_GIVEN))


def test_consent_expires_after_the_configured_number_of_days():
    given = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    assert domain.expiry(given, 730) == datetime(2028, 1, 31, 9, 0, tzinfo=UTC)


def test_the_pseudonym_is_keyed_and_one_way():
    ref = domain.pseudonym(b"key", "adv-00000001")
    assert len(ref) == 64 and "adv-00000001" not in ref
    assert ref == domain.pseudonym(b"key", "adv-00000001")
    assert ref != domain.pseudonym(b"other key", "adv-00000001")
    assert ref != domain.pseudonym(b"key", "adv-00000002")


def test_a_policy_published_on_kafka_must_show_something_as_over_http():
    PolicyText(actor="privacy-office", purpose=Purpose.LEADERBOARD, version=3, text="v3 \u200b", requires_renewal=False)
    with pytest.raises(ValidationError, match="shows nothing"):
        PolicyText(actor="privacy-office", purpose=Purpose.LEADERBOARD, version=3, text="\u200b\u202e ",
                   requires_renewal=False)
