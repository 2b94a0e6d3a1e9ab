"""What each event or command does in the distribution service."""

from services.runtime import directory
from services.runtime.service import ServiceRouter

router = ServiceRouter("distribution")
directory.follow(router)
