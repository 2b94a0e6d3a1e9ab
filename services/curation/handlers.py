"""What each event or command does in the curation service."""

from services.runtime import directory
from services.runtime.service import ServiceRouter

router = ServiceRouter("curation")
directory.follow(router)
