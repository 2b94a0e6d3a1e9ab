"""What each event or command does in the metrics service."""

from services.runtime import directory
from services.runtime.service import ServiceRouter

router = ServiceRouter("metrics")
directory.follow(router)
