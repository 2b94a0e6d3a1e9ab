"""The curation service's settings (environment variables) and topics (injectable for tests)."""

from dataclasses import dataclass

from schemas import consent, curation, directory
from schemas.networks import tracked_link
from services.runtime.settings import ServiceSettings


class CurationSettings(ServiceSettings):
    service: str = "curation"
    # Company policy: every share must carry a disclosure line (e.g. "#employee").
    disclosure_required: bool = True
    # Distribution's PUBLIC_BASE_URL (the same variable): suggested share texts are counted
    # with a tracked link as long as the one each share will carry.
    public_base_url: str = "http://127.0.0.1:8083"
    # How often the schedules look for due items and due feed sources.
    schedule_seconds: float = 1.0
    # How often each feed source is polled, and how long (all of it: DNS, connect, download,
    # parse) and how large a fetch may be. The source stays locked for that long.
    feed_poll_seconds: float = 300.0
    feed_timeout_seconds: float = 10.0
    feed_max_bytes: int = 5_000_000
    # Most drafts from one poll of one source, in the feed's order (newest first in most
    # feeds); the rest come at the next polls: a feed that suddenly lists thousands of
    # entries must not hold the source locked, or flood the editors, in one pass.
    feed_max_entries: int = 100
    # Feeds are fetched from public addresses only (no SSRF into our network). Tests and a
    # local stack that serve feeds on loopback or a private network turn this on.
    feed_allow_private_addresses: bool = False

    @property
    def tracked_link(self) -> str:
        return tracked_link(self.public_base_url)


@dataclass(frozen=True)
class CurationTopics:
    commands: str = curation.COMMANDS_TOPIC
    events: str = curation.EVENTS_TOPIC
    directory: str = directory.TOPIC
    # Only for AdvocateErased: an erased advocate's row in `people` must go here too.
    consent_events: str = consent.EVENTS_TOPIC
