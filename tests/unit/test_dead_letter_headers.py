"""Dead-letter headers say where a message came from and why it failed, without its values."""

from typing import Annotated, Literal, Union

import asyncpg
from aiokafka import ConsumerRecord
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from services.runtime.dead_letters import dead_letter_headers, event_headers


class Model(BaseModel):
    n: int


def record() -> ConsumerRecord:
    return ConsumerRecord(topic="advocacy.directory.v1", partition=3, offset=42, timestamp=0, timestamp_type=0,
                          key=b"k", value=b"{}", checksum=None, serialized_key_size=1, serialized_value_size=2,
                          headers=[("traceparent", b"00-abc")])


def test_headers_name_the_origin_and_the_reason_and_keep_the_original_headers():
    headers = dead_letter_headers(record(), ValueError("boom"), "consent")
    assert headers == {
        "traceparent": "00-abc", "dlq-error-type": "ValueError", "dlq-error-message": "boom",
        "dlq-original-topic": "advocacy.directory.v1", "dlq-original-partition": "3",
        "dlq-original-offset": "42", "dlq-service": "consent",
    }


def test_a_header_without_a_value_is_kept_empty():
    with_null = record()
    with_null.headers = [("traceparent", b"00-abc"), ("x-null", None)]
    assert dead_letter_headers(with_null, ValueError("boom"), "consent")["x-null"] == ""


def test_a_validation_error_is_described_by_field_without_the_input():
    try:
        Model(n="jane@example.com")
    except ValidationError as error:
        message = dead_letter_headers(record(), error, "consent")["dlq-error-message"]
    assert message.startswith("n: ")
    assert "jane" not in message


def test_a_value_the_database_refused_is_described_without_the_value():
    # asyncpg quotes up to 40 characters of the argument in its message.
    error = asyncpg.DataError("invalid input for query argument $2: 'jane@example.com\\ud800' "
                              "('utf-8' codec can't encode character '\\ud800': surrogates not allowed)")
    error.__cause__ = UnicodeEncodeError("utf-8", "jane@example.com\ud800", 16, 17, "surrogates not allowed")
    message = dead_letter_headers(record(), error, "metrics")["dlq-error-message"]
    assert message == "invalid input for query argument $2: UnicodeEncodeError: surrogates not allowed"


def test_an_event_id_with_a_lone_surrogate_becomes_a_header_utf_8_can_carry():
    """JSON may escape a lone surrogate; as it was, the letter could not be published and the
    consumer retried it for ever (found by the bad-input run's generated ids)."""
    headers = event_headers(b'{"id": "a\\udfffb", "type": "advocacy.x.v1"}')
    assert headers == {"dlq-event-id": "a\\udfffb", "dlq-event-type": "advocacy.x.v1"}
    assert all(value.encode("utf-8") for value in headers.values())


def test_a_value_postgres_could_not_take_is_described_without_the_value():
    # Postgres quotes the value in a data exception's message (SQLSTATE class 22); a packed
    # column (services/runtime/packed.py) is cast there, not in asyncpg.
    error = asyncpg.exceptions.InvalidTextRepresentationError(
        'invalid input syntax for type integer: "jane "the" doe@example.com"')
    message = dead_letter_headers(record(), error, "metrics")["dlq-error-message"]
    assert message == "22P02: invalid input syntax for type integer: …"
    out_of_range = asyncpg.exceptions.NumericValueOutOfRangeError('value "3000000000" is out of range for type integer')
    assert dead_letter_headers(record(), out_of_range, "metrics")["dlq-error-message"] == (
        "22003: value … is out of range for type integer")


def test_a_tag_or_a_field_name_that_was_sent_is_left_out_of_the_reason():
    class Shared(BaseModel):
        model_config = ConfigDict(extra="forbid")
        type: Literal["shared"]

    class Clicked(BaseModel):
        type: Literal["clicked"]

    events = TypeAdapter(Annotated[Union[Shared, Clicked], Field(discriminator="type")])  # noqa: UP007
    for sent in ({"type": "jane@example.com"}, {"type": "shared", "jane@example.com": 1}):
        try:
            events.validate_python(sent)
        except ValidationError as error:
            message = dead_letter_headers(record(), error, "metrics")["dlq-error-message"]
        assert "jane" not in message
    assert message == "shared.<a field not in the contract>: Extra inputs are not permitted"
    try:
        events.validate_python({"type": "shared", "email": "x"})
    except ValidationError as error:
        assert dead_letter_headers(record(), error, "metrics")["dlq-error-message"] == (
            "shared.email: Extra inputs are not permitted")  # a field's name tells the sender what to remove
