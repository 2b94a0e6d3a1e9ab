"""What each service reads, and how it decodes it: the oracle for generated inputs.

Readers come from schemas/platform.toml (the topics a service subscribes to); the decoders
mirror the subscribers' annotations, so a message these refuse must be dead-lettered by
that service, never handled.
"""

from collections.abc import Callable
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from schemas import consent, curation, directory, distribution, engagement, metrics
from schemas.platform import load_platform
from services.metrics.handlers import COUNTED

# The union each topic's subscribers validate a decoded message against.
UNIONS: dict[str, Any] = {
    directory.TOPIC: directory.DirectoryEvent,
    engagement.TOPIC: engagement.EngagementEvent,
    curation.COMMANDS_TOPIC: curation.AnyCommand,
    curation.EVENTS_TOPIC: curation.AnyEvent,
    consent.COMMANDS_TOPIC: consent.ConsentCommand,
    consent.EVENTS_TOPIC: consent.ConsentEvent,
    distribution.COMMANDS_TOPIC: distribution.DistributionCommand,
    metrics.COMMANDS_TOPIC: metrics.MetricsCommand,
    distribution.EVENTS_TOPIC: distribution.DistributionEvent,  # metrics decodes it per record, below
}
# Metrics counts both topics with one decoder, the union of their contracts.
_COUNTED = {(distribution.EVENTS_TOPIC, "metrics"), (engagement.TOPIC, "metrics")}
COMMAND_TOPICS = {f"advocacy.{s}.commands.v1": s for s in ("curation", "consent", "distribution", "metrics")}


@cache
def readers() -> dict[str, tuple[str, ...]]:
    """Input topic -> the platform's services that consume it (readers outside the platform,
    such as `operator` or `partner`, are not asked)."""
    platform = load_platform()
    return {t.name: tuple(r for r in t.readers if r in platform.services)
            for t in platform.topics if any(r in platform.services for r in t.readers)}


_COUNTED_ADAPTER: TypeAdapter[Any] = TypeAdapter(COUNTED)


@cache
def _adapter(topic: str) -> TypeAdapter:
    return TypeAdapter(UNIONS[topic])


def decode(topic: str, doc: Any) -> Any:
    """The document as the topic's contracts read it (raises if they refuse it)."""
    return _adapter(topic).validate_python(doc)


def decoder(topic: str, service: str) -> Callable[[bytes | None], Any]:
    """Raises (ValueError, TypeError) where `service`'s subscriber on `topic` would: every
    subscriber takes batches, and the inbox decodes each raw record as JSON with pydantic's
    own parser (stricter than json.loads about lone surrogates)."""
    adapter = _COUNTED_ADAPTER if (topic, service) in _COUNTED else _adapter(topic)
    return lambda value: adapter.validate_json(value or b"")


def contract_accepts(topic: str, service: str, value: bytes | None) -> bool:
    try:
        decoder(topic, service)(value)
        return True
    except (ValueError, TypeError):  # pydantic's ValidationError and json's errors are ValueErrors
        return False
