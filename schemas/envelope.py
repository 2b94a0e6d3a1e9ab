"""CloudEvents 1.0 envelope, structured JSON mode.

Every message on the platform's topics is one of these. The Kafka key is `subject`
(the aggregate id: an advocate id, an item id), so ordering holds per aggregate.

What the specification allows is accepted: a `datacontenttype` with parameters
(`application/json; charset=utf-8`) or of a `+json` type; extension attributes we do not
know (ignored, as consumers must). What it forbids is refused with the reason (and
dead-lettered): a `time` that is not an RFC 3339 timestamp with an offset (date-only,
no offset, a number), a missing `id`, `specversion` or `type` (a consumer of one type
must not assume it), `data` together with `data_base64` (the JSON format allows one of
them), and attribute names other than lowercase ASCII letters and digits.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Generic, Literal, Self, TypeVar
from uuid import uuid4

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, Strict, model_validator

DataT = TypeVar("DataT")

CONTENT_TYPE = "application/cloudevents+json"
REQUIRED_ON_RECEIPT = ("id", "specversion", "type")
# CloudEvents 1.0 §"Attribute Naming Convention": lower-case ASCII letters and digits only.
ATTRIBUTE_NAME = re.compile(r"[a-z0-9]+")
# JSON format §3.1: `data` and `data_base64` are members of the event, not attributes.
DATA_MEMBERS = ("data", "data_base64")
# Media types are case-insensitive (RFC 6838 §4.2); spelt out in classes rather than with
# an inline (?i), which JSON Schema's ECMA-262 patterns do not have.
JSON_CONTENT_TYPE = (r"^[Aa][Pp][Pp][Ll][Ii][Cc][Aa][Tt][Ii][Oo][Nn]/(?:[A-Za-z0-9!#$&^_.+-]+\+)?"
                     r"[Jj][Ss][Oo][Nn][ \t]*(?:;.*)?$")


def _not_a_number(value: Any) -> Any:
    """RFC 3339 (CloudEvents' `Timestamp`) is a string with a date: pydantic would read
    1767225600 or "1767225600" as seconds since 1970. (Date-only and offset-less strings
    are refused by `AwareDatetime`.)"""
    if (value.__class__ is str and value[4:5] == "-") or isinstance(value, datetime):  # "2026-…": a date first
        return value
    raise ValueError("time must be an RFC 3339 timestamp with a date, not a number")


# The instants events may carry, compared as instants whatever the offset. Wide enough for
# anything a network or a person did, narrow enough that every reader can hold them: an
# instant in year 1 puts its week at date.min, which asyncpg writes as -infinity, and one in
# 9999 at -05:00 is in year 10000 in UTC, beyond Python's datetime.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
Instant = Annotated[AwareDatetime, Field(
    ge=EARLIEST, lt=LATEST, description="RFC 3339, with a time and an offset (Z or ±hh:mm); "
                                        "from 1970-01-01T00:00:00Z, before 2100-01-01T00:00:00Z")]
Timestamp = Annotated[Instant, BeforeValidator(_not_a_number)]
# How far ahead of a receiver's clock an event ordered by its time may be dated (ADR 0038):
# as much as a command's `time` may differ either way (COMMAND_MAX_AGE_SECONDS' default).
AHEAD_TOLERATED = timedelta(hours=24)
AHEAD_TOLERATED_TEXT = f"{AHEAD_TOLERATED // timedelta(hours=1)} hours"  # as the reason says it
# I-JSON (RFC 7493 §2.2): integers beyond ±(2**53 − 1) lose precision in many JSON readers.
# Strict: a JSON integer, as the schema's `type: integer` says (pydantic would take `true` or "5").
Count = Annotated[int, Strict(), Field(ge=0, le=2**53 - 1)]
# A JSON boolean, as the schema's `type: boolean` says (pydantic would take 1, "yes" or "on").
Flag = Annotated[bool, Strict()]


class CloudEvent(BaseModel, Generic[DataT]):
    """The envelope. Subclasses pin `type` to a Literal and `data` to a model."""

    # Unknown extension attributes are kept aside (`model_extra`) so that `check_received` can
    # judge their names; they are ignored otherwise, as CloudEvents asks of consumers.
    model_config = ConfigDict(extra="allow", frozen=True)
    # What the subject, and so the Kafka key, is: a data field ("data.item_id") or words ("the
    # refused command's subject"). Documentation for the contracts' readers (schemas/json,
    # README); `keyed_by` is what enforces a field.
    subject_is: ClassVar[str] = ""
    # True for a released type the services no longer send: kept in the contract (old records
    # may remain within the topic's retention), marked so in README's topics table.
    no_longer_emitted: ClassVar[bool] = False
    # The time this event is ordered by against the others of its aggregate ("time", or a
    # field such as "data.observed_at") where the latest wins: one dated far ahead would keep
    # every later one out, so a receiver refuses it (`check_received`, ADR 0038). None:
    # ordered otherwise (by offset, by a sequence) or not at all.
    ordered_by: ClassVar[str | None] = None

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=lambda: str(uuid4()), min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=200, examples=["/advocacy/consent"])
    type: str = Field(min_length=1, max_length=200)
    subject: str = Field(min_length=1, max_length=200, description="Aggregate id; the Kafka key")
    time: Timestamp = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = Field(
        default="application/json", pattern=JSON_CONTENT_TYPE,
        description="application/json, a +json type, with parameters or not (RFC 6838 §4.2.8)")
    correlationid: str | None = Field(default=None, max_length=200)
    causationid: str | None = Field(default=None, max_length=200)
    data: DataT

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


def check_received(message: "dict[str, Any] | CloudEvent[Any]", latest: datetime | None = None) -> None:
    """Raise ValueError if a received message (decoded JSON, or an event validated from it)
    lacks a required CloudEvents attribute, carries both `data` and `data_base64`, names an
    attribute against the naming rule, or, given `latest` (the receiver's clock plus
    `AHEAD_TOLERATED`), is ordered by a time after it (`CloudEvent.ordered_by`). Building an
    event in code fills in `id`, `specversion` and `type`; a received one must carry them: a
    default id would be a new id at each redelivery (no inbox could tell the repeat), and a
    default type would take any event for the one a consumer expects. (A check after
    validation, not a validator: a Python model validator would slow every decoding by 40%.)
    Messages are named by attribute, never by the values sent."""
    # Asked as "a dict?", not "a CloudEvent?": isinstance against a pydantic model goes through
    # ABCMeta and cost the metrics consumer a twentieth of its time (py-spy, ADR 0026).
    if isinstance(message, dict):
        present: Any = message
        extra = message
    else:
        if latest is not None and (ordered := message.ordered_by) is not None and _time_of(message, ordered) > latest:
            raise ValueError(f"{ordered} is more than {AHEAD_TOLERATED_TEXT} ahead of the receiver's clock: "
                             "ordered by it, the event would keep every later one out")
        # The attributes behind `model_fields_set` and `model_extra`: those are properties, a
        # Python call each per event.
        present = message.__pydantic_fields_set__
        extra = message.__pydantic_extra__ or {}
        if not extra and "id" in present and "specversion" in present and "type" in present:
            return  # the usual event, without extensions: the checks below would find nothing
    if missing := [name for name in REQUIRED_ON_RECEIPT if name not in present]:
        raise ValueError(f"missing required CloudEvents attributes: {', '.join(missing)}")
    if "data_base64" in extra and "data" in present:
        raise ValueError("data and data_base64 together: an event carries one of them")
    if bad := [name for name in extra if name not in DATA_MEMBERS and not ATTRIBUTE_NAME.fullmatch(name)]:
        raise ValueError(f"{len(bad)} attribute name(s) not of lowercase letters and digits")


def _time_of(event: "CloudEvent[Any]", path: str) -> datetime:
    value: Any = event
    for name in path.split("."):
        value = getattr(value, name)
    return value  # type: ignore[no-any-return]


def event_type_of(model: type[CloudEvent[Any]]) -> str:
    """The `type` a concrete event class is pinned to."""
    return str(model.model_fields["type"].default)


def keyed_by(field: str) -> Any:
    """Use as `_keyed = keyed_by("advocate_id")` in an event class: its subject (the Kafka
    key) must be `data.<field>`, so ordering per key is ordering per that aggregate."""

    def check(event: CloudEvent[Any]) -> CloudEvent[Any]:
        if event.subject != str(getattr(event.data, field)):
            raise ValueError(f"subject must equal data.{field}")
        return event

    check.subject_field = field  # type: ignore[attr-defined]  # read by subject_field_of
    return model_validator(mode="after")(check)


def subject_field_of(model: type[CloudEvent[Any]]) -> str | None:
    """The `data` field a class's subject must equal (declared with `keyed_by`), or None."""
    for decorator in model.__pydantic_decorators__.model_validators.values():
        if field := getattr(decorator.func, "subject_field", None):
            return str(field)
    return None


def subject_of(model: type[CloudEvent[Any]]) -> str:
    """What a class's subject (its Kafka key) is: "data.<field>" where it must equal one
    (`keyed_by`), else the class's `subject_is`."""
    field = subject_field_of(model)
    return f"data.{field}" if field else model.subject_is


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, BaseModel):
        return any(_holds_nul(v) for v in value.__dict__.values())
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


class TextsWithoutNul(BaseModel):
    """A model every text of which is kept in Postgres `text`, which cannot hold U+0000
    (PostgreSQL docs, "Character Types"): a NUL anywhere in it, nested models, lists and
    mappings included, fails validation (over HTTP a 422, on Kafka a dead letter with that
    reason), where the store would have failed on it (a 500, a dead letter saying only that
    the store failed; found by new users)."""

    @model_validator(mode="after")
    def _no_nul(self) -> Self:
        if _holds_nul(self):
            raise ValueError("a text holds U+0000 (NUL), which no text of the platform can keep")
        return self


class Contract(BaseModel):
    """Base of every `data` model that comes from outside the platform: unknown fields
    are rejected, so nothing (a name, an e-mail address) slips in unnoticed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
