"""Hypothesis strategies for valid CloudEvents of every contract a service reads, derived
from the pydantic models themselves (types, enums, patterns, lengths), so a new field is
covered without touching this file. Mutations (mutations.py) then spoil them.

Every id a message names (advocate, item, share …) starts with the run's tag: what the
generated messages do to the shared platform stays among the run's own ids.
"""

import types
import typing
from datetime import UTC, date, datetime
from enum import Enum
from typing import Annotated, Any, Literal

from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel, ValidationError

from schemas.envelope import CloudEvent, event_type_of

ID_FIELDS = {"advocate_id", "item_id", "share_id", "report_id", "campaign_id", "source_id", "command_id",
             "actor", "owner"}
URL_FIELDS = {"source_url", "image_url", "url", "tracked_url", "share_intent_url"}
SUBJECT_FIELDS = ("advocate_id", "report_id", "share_id", "item_id", "campaign_id", "source_id", "purpose")

urls = st.one_of(
    st.builds("https://{}.example/{}".format, st.from_regex(r"[a-z]{1,12}", fullmatch=True), st.text(max_size=20)),
    st.sampled_from(["javascript:alert(1)", "data:text/html,<b>x</b>", "file:///etc/passwd", "ftp://example.com/",
                     "https://", "//example.com/x", "https://user@evil.example/", "http://exa mple.com/"]),
)
# Dates and times as JSON carries them; the whole range Python knows, extremes included.
aware_times = st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)
# For an event ordered by its `time` (ADR 0038), one no later than now: ahead, it is refused.
times_until_now = st.datetimes(max_value=datetime.now(), timezones=st.just(UTC)).map(datetime.isoformat)
dates = st.dates().map(date.isoformat)


def tagged_ids(tag: str) -> st.SearchStrategy[str]:
    return st.integers(0, 99_999).map(lambda n: f"{tag}-{n:05d}")


def _constraints(metadata: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for m in metadata:
        for name in ("pattern", "min_length", "max_length", "gt", "ge", "lt", "le"):
            if getattr(m, name, None) is not None:
                found[name] = getattr(m, name)
    return found


def for_type(tp: Any, tag: str, name: str = "", metadata: list[Any] = ()) -> st.SearchStrategy[Any]:
    """JSON-ready values of annotation `tp` for field `name`."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Annotated:
        return for_type(args[0], tag, name, [*metadata, *args[1:]])
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(for_type(a, tag, name, metadata) for a in args))
    if tp is type(None):
        return st.none()
    c = _constraints(metadata)
    if origin is list:
        return st.lists(for_type(args[0], tag, name), max_size=min(c.get("max_length", 4), 4))
    if origin is dict:
        return st.dictionaries(for_type(args[0], tag), for_type(args[1], tag, name), max_size=3)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return st.sampled_from([m.value for m in tp])
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return for_model(tp, tag)
    if tp is bool:
        return st.booleans()
    if tp is int:
        low = c["gt"] + 1 if "gt" in c else c.get("ge", -(2**63))
        return st.integers(low, 2**63 - 1)
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if tp in (datetime, AwareDatetime):
        return aware_times
    if tp is date:
        return dates
    if name in ID_FIELDS:
        return tagged_ids(tag)
    if name in URL_FIELDS:
        return urls
    if "pattern" in c:
        return st.from_regex(c["pattern"], fullmatch=True)
    return st.text(min_size=c.get("min_length", 0), max_size=min(c.get("max_length", 60), 60))


def for_model(model: type[BaseModel], tag: str) -> st.SearchStrategy[dict[str, Any]]:
    required, optional = {}, {}
    for name, f in model.model_fields.items():
        value = for_type(f.annotation, tag, name, f.metadata)
        (required if f.is_required() else optional)[name] = value
    return st.fixed_dictionaries(required, optional=optional)


def envelopes(event_class: type[CloudEvent[Any]], tag: str) -> st.SearchStrategy[dict[str, Any]]:
    """Valid documents of `event_class` (its subject rule included); the id is a placeholder
    the caller replaces with a unique one."""
    data_model = event_class.model_fields["data"].annotation
    return st.builds(lambda data, time, subject: _with_subject(event_class, {
        "specversion": "1.0", "id": "placeholder", "source": "/bad-input", "type": event_type_of(event_class),
        "time": time, "datacontenttype": "application/json", "data": data}, subject),
        for_model(data_model, tag), times_until_now if event_class.ordered_by == "time" else aware_times,
        tagged_ids(tag)).filter(_valid(event_class))


def _with_subject(event_class: type[CloudEvent[Any]], doc: dict[str, Any], fallback: str) -> dict[str, Any]:
    """The subject the class's key rule wants: the first of the data's ids that validates."""
    candidates = [str(doc["data"][f]) for f in SUBJECT_FIELDS if f in doc["data"]] + [fallback]
    for subject in candidates:
        try:
            event_class.model_validate({**doc, "subject": subject})
            return {**doc, "subject": subject}
        except ValidationError:
            continue
    return {**doc, "subject": fallback}


def _valid(event_class: type[CloudEvent[Any]]):
    def check(doc: dict[str, Any]) -> bool:
        try:
            event_class.model_validate(doc)
            return True
        except ValidationError:
            return False
    return check
