"""Wiring only: `python -m services.distribution` runs this service as its own process."""

from services.distribution.handlers import router
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings

service = Service(ServiceSettings(service="distribution"), router)
app = service.app
