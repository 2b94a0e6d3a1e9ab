"""Apply a service's migrations and exit: `python -m services.runtime.migrate SERVICE`.

Services migrate at start anyway (with an advisory lock); this entry point lets an
operator migrate *before* a rollout (the Kubernetes migration Job, the compose
provisioner), so a failing migration stops the upgrade instead of crash-looping pods.
It connects with the service's own DATABASE_URL, so tables land in its schema, owned by it.
"""

import asyncio
import logging
import sys
from pathlib import Path

import asyncpg

from services.runtime.logs import configure_logging
from services.runtime.migrations import RUNTIME_MIGRATIONS, migrate
from services.runtime.settings import ServiceSettings

SERVICES_DIR = Path(__file__).resolve().parents[1]
log = logging.getLogger(__name__)


def folders(service: str) -> dict[str, Path]:
    """The folders a running `Service` migrates, in its order: the runtime's tables first."""
    return {"runtime": RUNTIME_MIGRATIONS, service: SERVICES_DIR / service / "migrations"}


async def migrate_service(settings: ServiceSettings) -> list[str]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await migrate(conn, folders(settings.service))
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
