"""`python -m services.portal`: serve the portal on HTTP_HOST:HTTP_PORT until SIGTERM."""

import logging

import uvicorn
import uvloop

from services.portal.config import PortalSettings
from services.portal.web import build_app
from services.runtime.logs import configure_logging


def main() -> None:
    settings = PortalSettings()
    configure_logging(settings.service, settings.log_level)
    if refusals := settings.refusals():
        logging.getLogger(__name__).error("portal refuses to start: %s", "; ".join(refusals))
        raise SystemExit(2)
    server = uvicorn.Server(uvicorn.Config(build_app(settings), host=settings.http_host, port=settings.http_port,
                                           log_config=None, access_log=False, lifespan="on", proxy_headers=False))
    uvloop.run(server.serve())


if __name__ == "__main__":
    main()
