"""Ordered SQL migrations per service schema, recorded in a table; a second run does nothing.

Files are named `NNN_description.sql` and applied in order, each in its own transaction
together with its row in `schema_migrations`. The runtime's own tables (outbox, inbox)
come first, from services/runtime/migrations/, then the service's own folder.

Services migrate at start (with an advisory lock). `python -m services.runtime.migrate
SERVICE` applies a service's migrations and exits, so an operator can migrate *before* a
rollout (the Kubernetes migration Job, the compose provisioner) and a failing migration
stops the upgrade instead of crash-looping pods. It connects with the service's own
DATABASE_URL, so tables land in its schema, owned by it.
"""

import asyncio
import hashlib
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from services.runtime.logs import configure_logging
from services.runtime.settings import ServiceSettings
from services.runtime.unit_of_work import Connection

RUNTIME_MIGRATIONS = Path(__file__).with_name("migrations")
SERVICES_DIR = Path(__file__).resolve().parents[1]
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


def folders(service: str, own: Path | None) -> dict[str, Path]:
    """The folders a service migrates, in order: the runtime's tables first, then its own
    (`own`; None for a service with no tables of its own)."""
    return {"runtime": RUNTIME_MIGRATIONS, **({service: own} if own is not None else {})}


def discover(source: str, folder: Path) -> list[Migration]:
    return [Migration(source, path.stem, path.read_text()) for path in sorted(folder.glob("*.sql"))]


async def migrate(conn: Connection, folders: dict[str, Path]) -> list[str]:
    """Apply what is missing from each folder (in the given order); return what was applied,
    as "source/version". A changed file that was applied before is logged, not re-applied."""
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


async def migrate_service(settings: ServiceSettings) -> list[str]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await migrate(conn, folders(settings.service, SERVICES_DIR / settings.service / "migrations"))
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    (service,) = argv if argv is not None else sys.argv[1:]
    if not (SERVICES_DIR / service / "migrations").is_dir():
        raise SystemExit(f"unknown service {service!r}: no services/{service}/migrations/")
    settings = ServiceSettings(service=service)
    configure_logging(service, settings.log_level)
    applied = asyncio.run(migrate_service(settings))
    log.info("migrations applied: %s", ", ".join(applied) or "none (up to date)")


if __name__ == "__main__":
    main()
