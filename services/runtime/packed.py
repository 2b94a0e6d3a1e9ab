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
Values: str, int, bool, float, date, datetime (aware) or None, each as `str()` writes it, which
is how Postgres reads them (booleans "True"/"False", timestamps "2026-03-01 10:00:00+00:00").
"""

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

_UNIT, _NULL = "\x1f", "\x1e"


def pack(values: Sequence[Any]) -> str:
    """One column (values of one type, or None) as one text parameter (the format above)."""
    nulls = values.count(None)
    if nulls == len(values) or (len(values) == 1 and values[0] == ""):  # no type to tell; a lone ""
        return _literal(values)
    texts = [_NULL if v is None else v for v in values] if nulls else list(values)
    kind = next(v for v in values if v is not None).__class__
    if issubclass(kind, str):
        written = "".join(filter(None, values))
        if _UNIT in written or _NULL in written:  # `in` finds a character with memchr, str.count one by one
            return _literal(values)
    elif issubclass(kind, date):  # a date or a timestamp: 0.5 µs to write, and they repeat in a batch
        texts = _dates(texts)
    else:  # numbers, booleans: their text holds no control character
        texts = list(map(str, texts))
    texts[0] = "|" + texts[0]  # not "|" + the whole: a second copy of a long string costs more than the join
    return _UNIT.join(texts)


def _literal(values: Sequence[Any]) -> str:
    """A Postgres array literal: every element quoted, backslash and double quote escaped."""
    return "{" + ",".join("NULL" if v is None else '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for v in values) + "}"


_DATES: dict[date, str] = {}  # the text of dates and timestamps met lately


def _dates(values: list[Any]) -> list[str]:
    """`str` of each date or timestamp (or the null mark), those met before from `_DATES`."""
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
    return (f"(CASE WHEN left({text}, 1) = '{{' THEN {text}::{type_}[] "
            f"ELSE string_to_array(substr({text}, 2), chr(31), chr(30))::{type_}[] END)")


def unpacked_all(*types: str, first: int = 1) -> str:
    """`unpacked` for parameters $first, $first+1 … of these types, comma-separated: the
    arguments of an `unnest(…)` over `pack_rows`."""
    return ", ".join(unpacked(f"${n}", type_) for n, type_ in enumerate(types, first))
