"""Ordered SQL migrations per service schema, recorded in a table; a second run does nothing.

Files are named `NNN_description.sql` and applied in order, each in its own
transaction together with its row in `schema_migrations`. The runtime's own tables
(outbox, inbox) come first, from services/runtime/migrations/, then the service's.
"""

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import asyncpg

RUNTIME_MIGRATIONS = Path(__file__).with_name("migrations")
log = logging.getLogger(__name__)

# Serialises concurrent starts of the same service (two replicas migrating at once).
_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':migrations'))"


@dataclass(frozen=True)
class Migration:
    source: str
    version: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(source: str, folder: Path) -> list[Migration]:
    return [
        Migration(source, path.stem, path.read_text())
        for path in sorted(folder.glob("*.sql"))
    ]


async def migrate(conn: asyncpg.Connection, folders: dict[str, Path]) -> list[str]:
    """Apply what is missing from each folder (in the given order); return what was applied."""
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               source text NOT NULL,
               version text NOT NULL,
               checksum text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now(),
               PRIMARY KEY (source, version))"""
    )
    applied: list[str] = []
    for source, folder in folders.items():
        for migration in discover(source, folder):
            async with conn.transaction():
                await conn.execute(_LOCK_SQL)
                known = await conn.fetchval(
                    "SELECT checksum FROM schema_migrations WHERE source = $1 AND version = $2",
                    source, migration.version,
                )
                if known is not None:
                    if known != migration.checksum:
                        log.warning("migration %s/%s changed after it was applied", source, migration.version)
                    continue
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (source, version, checksum) VALUES ($1, $2, $3)",
                    source, migration.version, migration.checksum,
                )
                applied.append(f"{source}/{migration.version}")
    return applied
