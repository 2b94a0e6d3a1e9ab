"""A batch's columns sent to Postgres as one text parameter each, for set-based statements
over `unnest(...)` (`pack_rows` in Python, `unpacked` in the SQL).

asyncpg sends a list as a binary array and, while it does, checks every element against
`collections.abc` types in Python (asyncpg/protocol/codecs/array.pyx, `_is_array_iterable`):
0.4–1 µs an element on this host, the largest part of what metrics' statements cost its
process (docs/performance-log.md, "Ingestion: columns as text"). Joined into one string a
column costs about 0.1–0.2 µs an element, and Postgres splits it (`string_to_array`) and casts
the pieces to the column's type, as it reads any text literal.

The format: "|", then the values joined by U+001F (the unit separator), None as U+001E (the
record separator). A column that cannot be written so (a value holding either character, or a
lone empty string, which `string_to_array` reads as no element at all) goes as a Postgres array
literal instead ("{…}", every element quoted; PostgreSQL manual §8.15.2); `unpacked` reads both.
Values: str (as it is), bool, int, float, Decimal, date, aware datetime (in UTC) or UUID (as
`str()` writes them, which is how Postgres reads them: "True", "2026-03-01 10:00:00+00:00"), or
None; one type per column.
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

_UNIT, _NULL = "\x1f", "\x1e"


def pack(values: Sequence[Any]) -> str:
    """One column (values of one type, or None) as one text parameter (the format above).
    Raises TypeError for a column of mixed types, of a type not listed above, or holding a
    timestamp without a time zone (Postgres would read it in its session's zone)."""
    nulls = values.count(None)
    if nulls == len(values) or (len(values) == 1 and values[0] == ""):  # no type to tell; a lone ""
        return _literal(values)
    texts = [_NULL if v is None else v for v in values] if nulls else list(values)
    kind = next(v for v in values if v is not None).__class__
    if issubclass(kind, str):
        written = "".join(filter(None, values))  # TypeError if some value is not a str
        if _UNIT in written or _NULL in written:  # `in` finds a character with memchr, str.count one by one
            return _literal(values)
        texts[0] = "|" + texts[0]  # not "|" + the whole: a second copy of a long string costs more than the join
        return _UNIT.join(texts)
    if kind not in _WRITTEN or len(set(map(type, values)) - {type(None)}) > 1:
        raise TypeError(f"a packed column holds one of {', '.join(t.__name__ for t in _WRITTEN)} (or None), "
                        f"not {', '.join(sorted({type(v).__name__ for v in values}))}")
    if kind is date:  # 0.5 µs to write, and a batch's dates repeat
        texts = _dates(texts)
    else:
        if kind is datetime:
            if any(v.tzinfo is None for v in values if v is not None):
                raise TypeError("a packed timestamp needs a time zone")
            # In UTC: Postgres reads offsets up to ±15:59 only, RFC 3339 allows ±23:59.
            texts = [t if t is _NULL else t.astimezone(UTC) for t in texts]  # type: ignore[union-attr]
        texts = list(map(str, texts))  # their text holds no control character
    texts[0] = "|" + texts[0]
    return _UNIT.join(texts)


# What `str` writes as Postgres reads it back: "True", "12", "1.5", "2026-03-01",
# "2026-03-01 10:00:00+00:00", a UUID's 36 characters.
_WRITTEN = (bool, int, float, Decimal, date, datetime, UUID)


def _literal(values: Sequence[Any]) -> str:
    """A Postgres array literal: every element quoted, backslash and double quote escaped. A
    str's own text even for a (str, Enum) member, whose str() is its name."""
    return "{" + ",".join("NULL" if v is None else '"' + (str.__str__(v) if isinstance(v, str) else str(v))
                          .replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


_DATES: dict[date, str] = {}  # the text of dates met lately (only `date`: equal timestamps may be written apart)


def _dates(values: list[Any]) -> list[str]:
    """`str` of each date (or the null mark), those met before from `_DATES`."""
    texts = list(map(_DATES.get, values))
    if None in texts:
        if len(_DATES) > 10_000:
            _DATES.clear()
        for n, text in enumerate(texts):
            if text is None:
                value = values[n]
                texts[n] = text = str(value)
                if value is not _NULL:
                    _DATES[value] = text
    return texts  # type: ignore[return-value]  # every None replaced


def pack_rows(rows: Iterable[Sequence[object]]) -> list[str]:
    """Rows (tuples of the same length) as one packed parameter per column."""
    return [pack(column) for column in zip(*rows, strict=True)]


def unpacked(parameter: str, type_: str) -> str:
    """SQL for the array of `type_` ("text", "date", "bigint" …) that `pack` made of the
    value of `parameter` ("$1")."""
    text = f"{parameter}::text"
    # A scalar subquery (an InitPlan): evaluated once per statement. A bare CASE would be
    # evaluated again for every row where it filters a scan (`x = ANY(…)`).
    return (f"((SELECT CASE WHEN left({text}, 1) = '{{' THEN {text}::{type_}[] "
            f"ELSE string_to_array(substr({text}, 2), chr(31), chr(30))::{type_}[] END)::{type_}[])")


def unpacked_all(*types: str, first: int = 1) -> str:
    """`unpacked` for parameters $first, $first+1 … of these types, comma-separated: the
    arguments of an `unnest(…)` over `pack_rows`."""
    return ", ".join(unpacked(f"${n}", type_) for n, type_ in enumerate(types, first))
