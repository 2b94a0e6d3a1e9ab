"""The CloudEvents envelope as received: what the specification allows is accepted, what
it forbids is refused with the attribute named (and so dead-lettered)."""

import json
from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter

from schemas import directory, distribution, engagement
from schemas.envelope import AHEAD_TOLERATED, check_received

DIRECTORY = TypeAdapter(directory.DirectoryEvent)
SHARE_REQUEST = TypeAdapter(distribution.RequestShare)  # a consumer that expects exactly one type


def received(**changes: object) -> dict:
    event = directory.PersonLeft(source="/hr", subject="adv-000001", data=directory.Departure(advocate_id="adv-000001"))
    document = {**json.loads(event.to_bytes()), **changes}
    return {name: value for name, value in document.items() if value is not None}


def decode(document: dict, adapter: TypeAdapter = DIRECTORY):
    """As both paths decode: the inbox from bytes, a single subscriber from parsed JSON."""
    check_received(document)
    event = adapter.validate_json(json.dumps(document))
    check_received(event)
    check_received(adapter.validate_python(document))
    return event


@pytest.mark.parametrize("content_type", [
    "application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8",
    "Application/JSON", "application/cloudevents+json", "application/vnd.advocacy.person+json; version=1",
])
def test_json_content_types_with_parameters_or_a_json_suffix_are_accepted(content_type):
    assert decode(received(datacontenttype=content_type)).datacontenttype == content_type


@pytest.mark.parametrize("content_type", ["application/xml", "text/plain", "application/jsonx", "json", ""])
def test_content_types_that_are_not_json_are_refused(content_type):
    with pytest.raises(ValueError, match="datacontenttype"):
        decode(received(datacontenttype=content_type))


@pytest.mark.parametrize("time", ["2026-05-01T10:00:00Z", "2026-05-01T10:00:00.123456+02:00", "2026-05-01t10:00:00z",
                                  "2026-05-01T10:00:00-00:00"])
def test_rfc3339_times_with_an_offset_are_accepted(time):
    assert decode(received(time=time)).time.tzinfo is not None


@pytest.mark.parametrize("time", ["2026-05-01T10:00:00", "2026-05-01", 1767225600, 1767225600.5, "1767225600",
                                  "yesterday", True])
def test_a_time_without_an_offset_date_only_or_numeric_is_refused(time):
    with pytest.raises(ValueError, match="time"):
        decode(received(time=time))


@pytest.mark.parametrize("time", ["1969-12-31T23:59:59.999999Z", "0001-01-01T00:00:00+01:00",
                                  "2100-01-01T00:00:00Z", "2099-12-31T20:00:00-05:00"])
def test_a_time_before_1970_or_from_2100_on_is_refused_as_an_instant(time):
    """ADR 0037: compared as instants, whatever the offset."""
    with pytest.raises(ValueError, match="time"):
        decode(received(time=time))


def test_a_consumer_of_one_type_refuses_an_event_without_a_type_instead_of_assuming_it():
    command = distribution.RequestShare(source="/app", subject="adv-000001", data=distribution.ShareRequest(
        actor="adv-000001", advocate_id="adv-000001", item_id="item-0001", network="x"))
    document = json.loads(command.to_bytes())
    decode(document, SHARE_REQUEST)
    del document["type"]
    with pytest.raises(ValueError, match="type"):
        decode(document, SHARE_REQUEST)


def test_data_and_data_base64_together_are_refused():
    with pytest.raises(ValueError, match="data_base64"):
        decode(received(data_base64="eyJhIjoxfQ=="))


@pytest.mark.parametrize("name", ["traceparent", "partitionkey", "sequence", "dataref", "x1"])
def test_unknown_extensions_with_lowercase_names_are_accepted_and_ignored(name):
    assert decode(received(**{name: "value"})).subject == "adv-000001"


@pytest.mark.parametrize("name", ["traceParent", "trace_id", "trace-id", "Ünïcode", "dataRef", "a b"])
def test_attribute_names_other_than_lowercase_letters_and_digits_are_refused_without_echoing_them(name):
    with pytest.raises(ValueError, match="lowercase letters and digits") as refused:
        decode(received(**{name: "value"}))
    assert name not in str(refused.value)


RECEIVED_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LATEST = RECEIVED_AT + AHEAD_TOLERATED


def test_a_profile_is_refused_when_dated_more_than_a_day_ahead_of_the_receiver_and_a_departure_never():
    """ADR 0038: the newer profile wins, so a person.changed dated 2099 kept every later
    change out; a day ahead, as much as a command's time may differ, is still taken. Leaving
    always removes the person: a departure is taken whatever its time."""
    def changed(time: str):
        event = directory.PersonChanged(source="/hr", subject="adv-000001", data=directory.Profile(
            advocate_id="adv-000001", role="employee"))
        return DIRECTORY.validate_json(json.dumps({**json.loads(event.to_bytes()), "time": time}))

    with pytest.raises(ValueError, match="time is more than 24 hours ahead of the receiver's clock"):
        check_received(changed("2026-12-01T12:00:01Z"), LATEST)
    check_received(changed("2026-12-01T12:00:00Z"), LATEST)
    check_received(changed("2099-12-31T00:00:00Z"))  # without a clock (a command's own checks), nothing is judged
    check_received(DIRECTORY.validate_json(json.dumps(received(time="2099-12-31T00:00:00Z"))), LATEST)


def test_a_follower_report_is_ordered_by_when_it_was_observed_and_a_click_by_nothing():
    followers = engagement.FollowersReported(source="/c", subject="adv-000001", data=engagement.Followers(
        advocate_id="adv-000001", network="xing", followers=5, observed_at=datetime(2099, 12, 31, tzinfo=UTC)))
    with pytest.raises(ValueError, match=r"data\.observed_at is more than 24 hours ahead"):
        check_received(TypeAdapter(engagement.EngagementEvent).validate_json(followers.to_bytes()), LATEST)
    click = distribution.LinkClicked(source="/d", subject="share-0000001", data=distribution.Click(
        share_id="share-0000001", item_id="item-0000001", network="xing", visitor="v", bot=False,
        clicked_at=datetime(2099, 12, 31, tzinfo=UTC)))  # counted on its day: orders nothing
    check_received(TypeAdapter(distribution.LinkClicked).validate_json(click.to_bytes()), LATEST)
