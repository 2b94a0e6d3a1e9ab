"""What every Kafka command must be before any rule of its service is looked at (ADR 0019):
keyed by its subject, and dated, within the freshness window."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from schemas.commands import CommandReason, Rejected
from schemas.consent import EraseAdvocate
from services.runtime.handling import check_received_command

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=24)


def erase(**envelope: object) -> EraseAdvocate:
    event = {"specversion": "1.0", "id": "c-1", "source": "/privacy-office/tools", "subject": "adv-00000042",
             "type": "advocacy.consent.advocate.erase.v1", "data": {"advocate_id": "adv-00000042",
                                                                      "actor": "officer-01"}, **envelope}
    return EraseAdvocate.model_validate_json(json.dumps({k: v for k, v in event.items() if v is not None}))


def reason(command: EraseAdvocate, key: bytes = b"adv-00000042") -> CommandReason | None:
    try:
        check_received_command(command, key, WINDOW, NOW)
    except Rejected as refused:
        return refused.reason
    return None


def test_a_fresh_command_keyed_by_its_subject_passes():
    assert reason(erase(time="2026-11-30T11:00:00Z")) is None


def test_a_command_keyed_by_someone_else_is_refused():
    assert reason(erase(time="2026-11-30T11:00:00Z"), key=b"adv-00000043") is CommandReason.KEY_NOT_SUBJECT


@pytest.mark.parametrize("time", ["2026-11-29T11:59:00Z", "2026-12-01T12:01:00Z"])
def test_a_command_dated_outside_the_window_either_way_is_refused(time):
    assert reason(erase(time=time)) is CommandReason.COMMAND_NOT_FRESH


def test_a_command_without_a_time_is_refused_rather_than_dated_on_receipt():
    assert reason(erase(time=None)) is CommandReason.COMMAND_NOT_FRESH
