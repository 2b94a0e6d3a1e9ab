"""CloudEvents 1.0 envelope, structured JSON mode.

Every message on the platform's topics is one of these. The Kafka key is `subject`
(the aggregate id: an advocate id, an item id), so ordering holds per aggregate.
"""

from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field, model_validator

DataT = TypeVar("DataT")

CONTENT_TYPE = "application/cloudevents+json"
REQUIRED_ON_RECEIPT = ("id", "specversion")


class CloudEvent(BaseModel, Generic[DataT]):
    """The envelope. Subclasses pin `type` to a Literal and `data` to a model."""

    # Unknown extension attributes are ignored, as CloudEvents asks of consumers.
    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=lambda: str(uuid4()), min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=200, examples=["/advocacy/consent"])
    type: str = Field(min_length=1, max_length=200)
    subject: str = Field(min_length=1, max_length=200, description="Aggregate id; the Kafka key")
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: Literal["application/json"] = "application/json"
    correlationid: str | None = Field(default=None, max_length=200)
    causationid: str | None = Field(default=None, max_length=200)
    data: DataT

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


def check_received(message: "dict[str, Any] | CloudEvent[Any]") -> None:
    """Raise if a received message (decoded JSON, or an event validated from it) lacks a
    required CloudEvents attribute. Building an event in code fills in `id` and
    `specversion`; a received one must carry them: a default id would be a new id at each
    redelivery, and no inbox could tell the repeat. (A check after validation, not a
    validator: a Python validator would slow every decoding by 40%.)"""
    present = message.model_fields_set if isinstance(message, CloudEvent) else message
    if missing := [name for name in REQUIRED_ON_RECEIPT if name not in present]:
        raise ValueError(f"missing required CloudEvents attributes: {', '.join(missing)}")


def event_type_of(model: type[CloudEvent[Any]]) -> str:
    """The `type` a concrete event class is pinned to."""
    return model.model_fields["type"].default


def keyed_by(field: str) -> Any:
    """Use as `_keyed = keyed_by("advocate_id")` in an event class: its subject (the Kafka
    key) must be `data.<field>`, so ordering per key is ordering per that aggregate."""

    def check(event: CloudEvent[Any]) -> CloudEvent[Any]:
        if event.subject != str(getattr(event.data, field)):
            raise ValueError(f"subject must equal data.{field}")
        return event

    return model_validator(mode="after")(check)


class Contract(BaseModel):
    """Base of every `data` model that comes from outside the platform: unknown fields
    are rejected, so nothing (a name, an e-mail address) slips in unnoticed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
