"""Distribution's settings (environment variables) and topics (injectable for tests)."""

from dataclasses import dataclass

from pydantic import Field, SecretStr

from schemas import consent, curation, directory, distribution, engagement
from services.runtime.settings import DEVELOPMENT_SECRET, GroupFigureSettings


class DistributionSettings(GroupFigureSettings):
    service: str = "distribution"
    public_base_url: str = "http://127.0.0.1:8083"  # where tracked links point: this service's /r/{code}
    # Keys visitor hashes with each day's random salt (visitor_salts.py). Required outside local
    # mode, 32 characters at least: the database alone must not be enough to test an address.
    click_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    # Only requests from these addresses may name the visitor in X-Forwarded-For (a proxy in front).
    trusted_proxies: list[str] = ["127.0.0.1", "::1"]  # noqa: RUF012 (pydantic copies defaults)
    notification_daily_cap: int = 3  # immediate notifications per person and day; more wait for the digest
    digest_hour_utc: int = 8
    schedule_seconds: float = 1.0
    # k_anonymity (GroupFigureSettings): audience sizes below it are told partners as "fewer
    # than k" (item.distributed.v2), and growth only in steps of k (item.audience.grew.v1).
    # How often active items' audience growth is checked and told (ADR 0022): rarely enough
    # that a step's timing says little about whose yes completed it.
    distribution_audience_report_seconds: float = 3600.0
    # Most of the service's 10 database connections the redirect holds at once; a request past
    # them waits for one of these, not in the pool's queue, where a withdrawal's consumer would
    # wait behind every redirect of a burst (docs/performance-log.md, "Bulk work yields the cores").
    redirect_connections: int = Field(default=6, ge=1, le=9)


@dataclass(frozen=True)
class DistributionTopics:
    commands: str = distribution.COMMANDS_TOPIC
    events: str = distribution.EVENTS_TOPIC  # the platform's own: metrics reads it
    posts: str = distribution.POSTS_TOPIC  # connectors': publish and retraction requests
    items: str = distribution.ITEMS_TOPIC  # partners': per-item audience, "fewer than k" below k
    directory: str = directory.TOPIC
    consent_events: str = consent.EVENTS_TOPIC
    curation_events: str = curation.EVENTS_TOPIC
    engagement: str = engagement.TOPIC
