"""Postgres reads back every column `pack` sends exactly as it was (services/runtime/packed.py):
both forms, every type metrics sends, and the values a separator or a quote could break."""

from datetime import UTC, date, datetime, timedelta, timezone

import asyncpg
import pytest

from services.runtime.packed import pack, unpacked, unpacked_all

COLUMNS = [
    ("text", ["a", "b"]), ("text", [""]), ("text", []), ("text", ["", ""]), ("text", [None]),
    ("text", ["x", None, ""]), ("text", ["a\x1fb", "c"]), ("text", ["\x1e"]), ("text", ["\x1e", None]),
    ("text", ['q"uo\\te', None, "{", "|x", "NULL", "}"]), ("text", ["{a,b}"]), ("text", ["ünï", "😀"]),
    ("date", [date(2026, 3, 1), None, date(2026, 3, 1)]), ("bool", [True, False, None]),
    ("int", [1, -2, None]), ("bigint", [2**40, 0]),
    ("timestamptz", [datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC),
                     datetime(2026, 3, 1, 10, tzinfo=timezone(timedelta(hours=2))),
                     datetime(2026, 3, 1, 10, tzinfo=timezone(timedelta(hours=23, minutes=59))),
                     datetime(2026, 3, 1, 10, tzinfo=timezone(-timedelta(hours=16, minutes=30)))]),
]


@pytest.mark.parametrize(("type_", "values"), COLUMNS)
async def test_a_packed_column_comes_back_as_it_was_sent(stack, type_, values):
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        assert await conn.fetchval(f"SELECT {unpacked('$1', type_)}", pack(values)) == values
    finally:
        await conn.close()


async def test_packed_columns_unnest_into_rows(stack):
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        rows = await conn.fetch(f"SELECT * FROM unnest({unpacked_all('text', 'date', 'int')}) AS t(s, d, n)",
                                pack(["s1", "s2"]), pack([date(2026, 3, 2), None]), pack([1, 2]))
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [("s1", date(2026, 3, 2), 1), ("s2", None, 2)]
