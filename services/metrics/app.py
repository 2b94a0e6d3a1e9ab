"""Wiring only: `python -m services.metrics` runs this service as its own process."""

from services.metrics.handlers import router
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings

service = Service(ServiceSettings(service="metrics"), router)
app = service.app
