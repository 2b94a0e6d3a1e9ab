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

_UNIT, _NULL = "\x1f", "\x1e"


def pack(values: Sequence[object]) -> str:
    """One column as one text parameter (the format above)."""
    nulls = values.count(None)
    if nulls:
        text = _UNIT.join([_NULL if v is None else str(v) for v in values])
    else:
        try:
            text = _UNIT.join(values)  # type: ignore[arg-type]  # a column of str, the usual case
        except TypeError:
            text = _UNIT.join(map(str, values))
    if text and text.count(_UNIT) == len(values) - 1 and text.count(_NULL) == nulls:
        return "|" + text
    return "{" + ",".join("NULL" if v is None else '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for v in values) + "}"


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
