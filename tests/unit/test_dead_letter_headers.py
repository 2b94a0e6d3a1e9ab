"""Dead-letter headers say where a message came from and why it failed, without its values."""

from aiokafka import ConsumerRecord
from pydantic import BaseModel, ValidationError

from services.runtime.dead_letters import dead_letter_headers


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


def test_a_validation_error_is_described_by_field_without_the_input():
    try:
        Model(n="jane@example.com")
    except ValidationError as error:
        message = dead_letter_headers(record(), error, "consent")["dlq-error-message"]
    assert message.startswith("n: ")
    assert "jane" not in message
