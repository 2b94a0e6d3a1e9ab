"""Ways to spoil a valid document, each a hypothesis strategy of (category, document or
bytes): the categories of issue #8's bad input. `valid` leaves it alone, so every batch
also holds good messages among the bad (a consumer must not lose them either)."""

import json
from typing import Any

from hypothesis import strategies as st

# Text that has broken systems before: NUL (Postgres text refuses it), lone surrogates
# (not encodable as UTF-8), bidi overrides, piles of combining marks, emoji sequences,
# a BOM, a noncharacter, invisible spaces, and sheer length.
EDGE_TEXT = ["\x00", "a\x00b", "\ud800", "x\udfff", "\u202egnp.exe", "e" + "\u0301" * 200,
             "👩\u200d👩\u200d👧\u200d👦", "\ufeff", "\uffff", "𝕏𝕐", "\u200b", "\x1b[31m", "A" * 100_000]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)
UNKNOWN_TYPES = st.one_of(st.text(max_size=40), st.sampled_from([
    "advocacy.curation.item.boost.v1", "advocacy.consent.give.v2", "advocacy.directory.person.joined.v0",
    "advocacy.metrics.snapshot.v1", "ADVOCACY.CONSENT.GIVE.V1"]))


def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in a JSON document (lists by index)."""
    found = [prefix] if prefix else []
    children = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in children:
        found += paths(value, (*prefix, key))
    return found


def set_at(doc: Any, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def get_at(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _drop(doc: Any, path: tuple) -> None:
    parent = get_at(doc, path[:-1])
    del parent[path[-1]]


@st.composite
def spoiled(draw, doc: dict[str, Any]) -> tuple[str, Any]:
    """(category, document) or, for byte-level damage, (category, bytes)."""
    kind = draw(st.sampled_from([
        "valid", "missing_fields", "wrong_types", "unknown_fields", "unknown_event_types",
        "unknown_envelope_versions", "unicode_edge_cases", "invalid_json"]))
    every = paths(doc)
    if kind == "missing_fields":
        _drop(doc, draw(st.sampled_from(every)))
    elif kind == "wrong_types":
        set_at(doc, draw(st.sampled_from(every)), draw(JSON_VALUES))
    elif kind == "unknown_fields":
        dicts = [()] + [p for p in every if isinstance(get_at(doc, p), dict)]
        set_at(doc, (*draw(st.sampled_from(dicts)), draw(st.sampled_from(["email", "name", "x-extra"]))),
             draw(JSON_VALUES))
    elif kind == "unknown_event_types":
        doc["type"] = draw(UNKNOWN_TYPES)
    elif kind == "unknown_envelope_versions":
        doc["specversion"] = draw(st.sampled_from(["0.3", "1.1", "2.0", "", 1.0, None]))
    elif kind == "unicode_edge_cases":
        texts = [p for p in every if isinstance(get_at(doc, p), str) and p != ("id",)]
        path = draw(st.sampled_from(texts))
        edge = draw(st.sampled_from(EDGE_TEXT))
        set_at(doc, path, draw(st.sampled_from([edge, get_at(doc, path) + edge, edge + get_at(doc, path)])))
    elif kind == "invalid_json":
        return kind, draw(_broken_bytes(doc))
    return kind, doc


@st.composite
def _broken_bytes(draw, doc: dict[str, Any]) -> bytes:
    text = json.dumps(doc).encode()
    return draw(st.sampled_from([
        text[: draw(st.integers(0, len(text) - 1))],  # truncated
        text.replace(b'"', b"'", 2),  # single quotes
        b"\xff\xfe" + text,  # not UTF-8
        draw(st.binary(max_size=64)),
        json.dumps([doc]).encode(), b"null", b"42", b'"a string"',  # JSON, but not an object
        # No null value (a tombstone): the services skip it as no event, on every topic, and
        # count it (advocacy_tombstones_skipped_total; tests/integration/test_dead_letters.py).
    ]))
