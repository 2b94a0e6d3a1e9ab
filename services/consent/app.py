"""Wiring only: `python -m services.consent` runs this service as its own process."""

from services.consent.handlers import router
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings

service = Service(ServiceSettings(service="consent"), router)
app = service.app
