"""What each event or command does in the consent service."""

from services.runtime import directory
from services.runtime.service import ServiceRouter

router = ServiceRouter("consent")
directory.follow(router)
