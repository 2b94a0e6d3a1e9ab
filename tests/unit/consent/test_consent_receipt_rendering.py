"""A receipt reads as text and round-trips as JSON; it carries only what is needed."""

import json
from datetime import UTC, datetime

from schemas.consent import Purpose
from services.consent.receipts import Controller, HistoryEntry, PurposeConsent, Receipt, render_text

AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def receipt() -> Receipt:
    given = HistoryEntry(at=AT, change="given", policy_version=2, policy_hash="ab" * 32, collection_method="web_form",
                         changed_by="subject", ledger_hash="cd" * 32)
    withdrawn = HistoryEntry(at=AT.replace(hour=11), change="withdrawn", policy_version=2, policy_hash="ab" * 32,
                             collection_method="web_form", changed_by="subject", ledger_hash="ef" * 32)
    return Receipt(
        issued_at=AT, controller=Controller(name="Example AG", contact="privacy@example.com"),
        advocate_id="adv-00000001", purposes=[
            PurposeConsent(purpose=Purpose.LEADERBOARD, status="withdrawn", valid=False, policy_version=2,
                           policy_hash="ab" * 32, collection_method="web_form", changed_at=AT.replace(hour=11),
                           history=[given, withdrawn]),
        ])


def test_the_text_rendering_names_controller_status_policy_history_and_how_to_withdraw():
    text = render_text(receipt())
    assert "Controller: Example AG <privacy@example.com>" in text
    assert "leaderboard: withdrawn (not valid), policy v2 (sha256 abababababab…)" in text
    assert "2026-11-27 10:00 given by subject via web_form [proof cdcdcdcdcdcd]" in text
    assert "2026-11-27 11:00 withdrawn by subject via web_form [proof efefefefefef]" in text
    assert "To withdraw: Signed in, on the consent page" in text and "POST /api/me/consents/withdraw" in text


def test_an_empty_receipt_says_so():
    assert "No consent on record." in render_text(receipt().model_copy(update={"purposes": []}))


def test_the_json_receipt_has_the_consent_receipt_fields_and_no_policy_text():
    exported = receipt()
    document = json.loads(exported.model_dump_json())
    assert {"receipt_id", "format", "issued_at", "controller", "advocate_id", "withdrawal_method", "purposes"} == set(document)
    purpose = document["purposes"][0]
    assert {"purpose", "status", "valid", "policy_version", "policy_hash", "collection_method", "changed_at",
            "expires_at", "history"} == set(purpose)
    assert Receipt.model_validate_json(exported.model_dump_json()) == exported
