"""Run a service's outbox relay on its own: `python -m services.runtime.run_relay SERVICE`.

The service process runs its relay itself; this entry point exists for operators who
want to scale or restart the relay separately, and for the crash tests.
"""

import asyncio
import sys

from services.runtime.logs import configure_logging
from services.runtime.relay import OutboxRelay
from services.runtime.settings import ServiceSettings


def main() -> None:
    settings = ServiceSettings(service=sys.argv[1])
    configure_logging(settings.service, settings.log_level)
    asyncio.run(OutboxRelay.for_settings(settings).run())


if __name__ == "__main__":
    main()
