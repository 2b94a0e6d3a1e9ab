"""Consent's front door without broker or database: what Kafka may no longer do, what the
HTTP API accepts, and how a person's standing reads."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from schemas import consent as c
from schemas.commands import Rejected
from services.consent import store
from services.consent.api import ChoiceIn, ErasureIn, MyConsent, PolicyIn
from services.consent.app import build_service, kafka_commands
from services.consent.config import ConsentSettings, ConsentTopics
from services.consent.domain import Change
from services.consent.handlers import ConsentHandlers
from tests.integration.consent.rig import erase, give, publish, refuse, verify_ledger, withdraw

AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture
def handlers() -> ConsentHandlers:
    return ConsentHandlers(ConsentSettings(http_port=1), ConsentTopics(), lambda: AT)


@pytest.mark.parametrize("command", [give("adv-00000001"), refuse("adv-00000001"), withdraw("adv-00000001"),
                                     withdraw("adv-00000001", c.Purpose.LEADERBOARD)], ids=lambda c: c.type)
async def test_on_kafka_a_persons_choice_is_refused_as_not_signed_in_even_in_their_own_name(handlers, command):
    with pytest.raises(Rejected) as refused:
        await kafka_commands(handlers)[type(command)](None, command)  # refused before any database is touched
    assert refused.value.reason == c.Reason.SIGN_IN_REQUIRED == "sign_in_required"


def test_on_kafka_the_privacy_offices_and_operators_commands_are_still_handled(handlers):
    table = kafka_commands(handlers)
    assert {kind: table[kind] for kind in (c.PublishPolicy, c.EraseAdvocate, c.VerifyLedger)} == {
        c.PublishPolicy: handlers.publish_policy, c.EraseAdvocate: handlers.erase, c.VerifyLedger: handlers.verify}
    assert {type(m) for m in (publish(c.Purpose.LEADERBOARD, 1), erase("adv-00000001"), verify_ledger())} <= set(table)


@pytest.mark.parametrize("body", [{"policy_version": 0}, {"policy_version": 2**31}, {"policy_version": "1.5"},
                                  # the number shown, as a JSON integer: not true, "1" or 1.0 read as one
                                  {"policy_version": True}, {"policy_version": "1"}, {"policy_version": 1.0},
                                  {"policy_version": 1, "collection_method": "telepathy"},
                                  {"policy_version": 1, "advocate_id": "adv-00000002"}, {}])
def test_a_choice_names_a_version_the_database_can_hold_and_nothing_else(body):
    with pytest.raises(ValidationError):
        ChoiceIn.model_validate(body)


def test_a_choice_collected_without_saying_how_is_recorded_as_collected_through_the_api():
    assert ChoiceIn.model_validate({"policy_version": 1}).collection_method is c.CollectionMethod.API


@pytest.mark.parametrize("reason", ["", "  \n ", "x" * 501, "NUL \x00", "bell \x07", "escape \x1b[31m"])
def test_an_erasure_reason_is_readable_text_of_at_most_500_characters(reason):
    with pytest.raises(ValidationError):
        ErasureIn.model_validate({"reason": reason})


def test_an_erasure_reason_is_kept_without_surrounding_blanks_and_may_span_lines():
    assert ErasureIn.model_validate({"reason": "  Ticket 12:\n\tby letter \n"}).reason == "Ticket 12:\n\tby letter"


def test_a_policy_text_may_hold_paragraphs_but_no_nul_and_no_more_than_20000_characters():
    assert PolicyIn.model_validate({"version": 2, "text": "One.\r\n\r\nTwo.\tThree.", "requires_renewal": False})
    for text in ("", "a\x00b", "x" * 20001):
        with pytest.raises(ValidationError):
            PolicyIn.model_validate({"version": 2, "text": text, "requires_renewal": False})


def test_a_purpose_never_answered_reads_as_no_status_and_not_valid_with_the_current_text():
    current = store.PublishedPolicy(c.Purpose.LEADERBOARD, 2, "v2", "b" * 64, True, AT)
    never = MyConsent.of(store.Standing(c.Purpose.LEADERBOARD, None, None, current))
    assert (never.status, never.valid, never.since, never.until, never.renewal_requested) == (
        None, False, None, None, False)
    assert never.policy is None and never.current_policy and never.current_policy.text == "v2"


def test_a_consent_awaiting_renewal_reads_as_not_valid_and_renewal_requested():
    seen = store.PublishedPolicy(c.Purpose.LEADERBOARD, 1, "v1", "a" * 64, False, AT)
    record = Change("adv-00000001", c.Purpose.LEADERBOARD, c.Status.RENEWAL_REQUESTED, c.ChangedBy.CONTROLLER, AT, 1,
                    "a" * 64)
    standing = MyConsent.of(store.Standing(c.Purpose.LEADERBOARD, record, seen, None))
    assert (standing.status, standing.valid, standing.renewal_requested, standing.policy.version) == (
        c.Status.RENEWAL_REQUESTED, False, True, 1)


def test_the_api_document_names_every_endpoint_and_the_privacy_offices_refusals():
    document = build_service(ConsentSettings(http_port=1)).api.openapi()
    operations = {(method.upper(), path): operation for path, item in document["paths"].items()
                  for method, operation in item.items()}
    assert set(operations) == {
        ("GET", "/api/me/consents"), ("POST", "/api/me/consents/{purpose}/give"),
        ("POST", "/api/me/consents/{purpose}/refuse"), ("POST", "/api/me/consents/{purpose}/withdraw"),
        ("POST", "/api/me/consents/withdraw"), ("GET", "/api/me/receipt"), ("DELETE", "/api/me"),
        ("GET", "/api/policies"), ("POST", "/api/policies/{purpose}"), ("POST", "/api/people/{advocate_id}/erasure"),
        ("POST", "/api/ledger/verification")}
    assert all({"401", "403"} <= set(operation["responses"]) for operation in operations.values()
               if operation is not operations[("GET", "/api/policies")])
    assert set(operations[("GET", "/api/me/receipt")]["responses"]["200"]["content"]) == {
        "application/json", "text/plain"}
