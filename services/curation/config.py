"""The curation service's settings (environment variables) and topics (injectable for tests)."""

from dataclasses import dataclass

from schemas import curation, directory
from services.runtime.settings import ServiceSettings


class CurationSettings(ServiceSettings):
    service: str = "curation"
    # Company policy: every share must carry a disclosure line (e.g. "#employee").
    disclosure_required: bool = True
    # How often the schedules look for due items and due feed sources.
    schedule_seconds: float = 1.0
    # How often each feed source is polled, and how long and large a fetch may be.
    feed_poll_seconds: float = 300.0
    feed_timeout_seconds: float = 10.0
    feed_max_bytes: int = 5_000_000


@dataclass(frozen=True)
class CurationTopics:
    commands: str = curation.COMMANDS_TOPIC
    events: str = curation.EVENTS_TOPIC
    directory: str = directory.TOPIC
