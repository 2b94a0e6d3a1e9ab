"""Each service's login role reaches its own schema only: for every pair of services and
every table of the other's schema, no privilege is granted and every attempt is refused."""

from itertools import permutations
from pathlib import Path

import asyncpg
import pytest

from schemas.catalog import SERVICES
from services.runtime.migrate import RUNTIME_MIGRATIONS, migrate
from tests.conftest import dsn_for

PAIRS = list(permutations(SERVICES, 2))  # (intruder, owner)
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
async def tables(stack) -> dict[str, list[str]]:
    """Each service's tables, after applying its migrations as its own role (what its start does)."""
    found = {}
    for service in SERVICES:
        conn = await asyncpg.connect(dsn_for(stack.admin_dsn, service, service))
        try:
            await migrate(conn, {"runtime": RUNTIME_MIGRATIONS, service: REPO / "services" / service / "migrations"})
            found[service] = [r["table_name"] for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", service)]
        finally:
            await conn.close()
        assert len(found[service]) > 3, f"{service} has hardly any tables: the check would prove nothing"
    return found


async def test_no_role_holds_any_privilege_on_another_services_schema_or_tables(stack, tables):
    admin = await asyncpg.connect(stack.admin_dsn)
    try:
        for intruder, owner in PAIRS:
            assert not await admin.fetchval("SELECT has_schema_privilege($1, $2, 'USAGE, CREATE')", intruder, owner)
            for table in tables[owner]:
                assert not await admin.fetchval(
                    "SELECT has_table_privilege($1, $2, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES')",
                    intruder, f"{owner}.{table}"), (intruder, owner, table)
    finally:
        await admin.close()


@pytest.mark.parametrize("intruder, owner", PAIRS)
async def test_a_service_cannot_read_or_write_another_services_tables(stack, tables, intruder, owner):
    conn = await asyncpg.connect(dsn_for(stack.admin_dsn, intruder, intruder))
    try:
        assert await conn.fetchval("SELECT current_schema()") == intruder  # its own works (the control)
        for table in ("people", "outbox"):  # every service has both: personal data and events to publish
            for statement in (f"SELECT * FROM {owner}.{table} LIMIT 1", f"INSERT INTO {owner}.{table} DEFAULT VALUES",
                              f"DELETE FROM {owner}.{table}"):
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(statement)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(f"CREATE TABLE {owner}.intruder (id int)")
    finally:
        await conn.close()
