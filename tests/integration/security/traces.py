"""Where an advocate's id is still found: every column of every table of the services'
schemas, and the latest record per key on a compacted topic."""

from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

# Column types that can hold an id as text (ids are text; events are json or bytes).
_TEXT = ("text", "character varying", "character", "json", "jsonb", "ARRAY", "USER-DEFINED")


async def columns(admin: asyncpg.Connection, schemas: list[str]) -> dict[str, list[tuple[str, str]]]:
    """`schema.table` -> [(column, data_type)] of the columns that could hold an id."""
    rows = await admin.fetch(
        """SELECT c.table_schema, c.table_name, c.column_name, c.data_type
           FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
           WHERE c.table_schema = ANY($1) AND t.table_type = 'BASE TABLE'
             AND (c.data_type = ANY($2) OR c.data_type = 'bytea')
           ORDER BY 1, 2, 3""", schemas, list(_TEXT))
    found: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        found.setdefault(f'"{r["table_schema"]}"."{r["table_name"]}"', []).append((r["column_name"], r["data_type"]))
    return found


async def places_holding(admin: asyncpg.Connection, needle: str, tables: dict[str, list[tuple[str, str]]]) -> set[str]:
    """`schema.table.column` of every column where some row contains `needle` (one scan a table)."""
    places = set()
    for table, cols in tables.items():
        tests = [f'position(convert_to($1, \'UTF8\') in "{name}") > 0' if kind == "bytea"
                 else f'strpos("{name}"::text, $1) > 0' for name, kind in cols]
        row = await admin.fetchrow(f"SELECT {', '.join(f'bool_or({t})' for t in tests)} FROM {table}", needle)
        places |= {f"{table}.{name}".replace('"', "") for (name, _), hit in zip(cols, row.values(), strict=True) if hit}
    return places


async def latest_by_key(bootstrap: str, since: dict[TopicPartition, int], match: Any) -> dict[str, bytes | None]:
    """The last value (None: a tombstone) of each key accepted by `match`, among the records
    written after the offsets `since` (taken from `end_offsets` before the test acted)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    latest: dict[str, bytes | None] = {}
    try:
        consumer.assign(list(since))
        for tp, offset in since.items():
            consumer.seek(tp, offset)
        until = await consumer.end_offsets(list(since))
        while [tp for tp, end in until.items() if await consumer.position(tp) < end]:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                latest |= {r.key.decode(): r.value for r in records if r.key and match(r.key.decode())}
    finally:
        await consumer.stop()
    return latest


async def topics_naming(bootstrap: str, since: dict[str, dict[TopicPartition, int]], needle: str) -> set[str]:
    """The topics with a record, written after `since[topic]` (from `end_offsets`), whose key
    or value contains `needle`: what a reader of each topic could still find."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    found: set[str] = set()
    wanted = needle.encode()
    try:
        starts = {tp: offset for offsets in since.values() for tp, offset in offsets.items()}
        consumer.assign(list(starts))
        for tp, offset in starts.items():
            consumer.seek(tp, offset)
        until = await consumer.end_offsets(list(starts))
        while [tp for tp, end in until.items() if await consumer.position(tp) < end]:
            for tp, records in (await consumer.getmany(timeout_ms=200, max_records=5000)).items():
                if any(wanted in (r.key or b"") or wanted in (r.value or b"") for r in records):
                    found.add(tp.topic)
    finally:
        await consumer.stop()
    return found
