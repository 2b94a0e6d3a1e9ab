"""Wiring only: `python -m services.curation` runs this service as its own process."""

from services.curation.handlers import router
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings

service = Service(ServiceSettings(service="curation"), router)
app = service.app
