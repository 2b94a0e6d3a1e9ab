"""Loader for schemas/platform.toml, the one declaration of services and Kafka topics.

Services and tooling (the local stack, README generation) import this instead of
parsing the TOML themselves, so defaults are applied in exactly one place.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

PLATFORM_FILE = Path(__file__).with_name("platform.toml")

# The principal outside the company: may read only topics declared `personal = false`.
PARTNER = "partner"

# Used when platform.toml's [defaults] table leaves a value out.
_BUILTIN_DEFAULTS = {"partitions": 6, "retention_days": 30, "cleanup_policy": "delete",
                     "max_compaction_lag_hours": 24, "delete_retention_hours": 24}
_HOUR_MS = 60 * 60 * 1000


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    retention_days: int
    cleanup_policy: str  # "delete" or "compact" (Kafka's cleanup.policy)
    key: str = ""
    description: str = ""
    writers: tuple[str, ...] = ()
    readers: tuple[str, ...] = ()
    # Carries something about one person (an advocate's id, or a share or click that leads to
    # one): never for `partner`; its dead letters keep no value (ADR 0018).
    personal: bool = True
    # Compacted topics: how long a superseded or deleted record may stay, and a tombstone after it.
    max_compaction_lag_hours: int = 24
    delete_retention_hours: int = 24

    @property
    def retention_ms(self) -> int:
        return self.retention_days * 24 * _HOUR_MS

    @property
    def compacted(self) -> bool:
        return "compact" in self.cleanup_policy

    @property
    def kafka_configs(self) -> dict[str, str]:
        """Topic-level configs as Kafka expects them (strings). A compacted topic bounds how
        long a superseded value or a tombstoned key stays readable (erasure, ADR 0019): the
        cleaner must compact a record within `max.compaction.lag.ms`, segments roll as often
        (only closed segments are compacted), and tombstones go `delete.retention.ms` later."""
        configs = {"cleanup.policy": self.cleanup_policy, "retention.ms": str(self.retention_ms)}
        if self.compacted:
            lag = str(self.max_compaction_lag_hours * _HOUR_MS)
            configs |= {"max.compaction.lag.ms": lag, "segment.ms": lag,
                        "delete.retention.ms": str(self.delete_retention_hours * _HOUR_MS)}
        return configs


class Platform(NamedTuple):
    """What platform.toml declares; unpacks as ``services, topics, principals = load_platform()``."""

    services: dict[str, int]  # service name -> http_port
    topics: list[Topic]
    # The systems outside the platform, each a Kafka principal of its own: name -> what it is.
    principals: dict[str, str]

    @property
    def kafka_principals(self) -> list[str]:
        """Everyone who logs in to Kafka: each service, then each outside system."""
        return [*self.services, *self.principals]


def load_platform(path: Path | str = PLATFORM_FILE) -> Platform:
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    defaults = {**_BUILTIN_DEFAULTS, **raw.get("defaults", {})}
    services = {name: int(spec["http_port"]) for name, spec in raw.get("services", {}).items()}
    principals = {name: str(spec.get("description", "")) for name, spec in raw.get("principals", {}).items()}
    topics = []
    for name, spec in raw.get("topics", {}).items():
        merged = {**defaults, **spec}
        topics.append(
            Topic(
                name=name,
                partitions=int(merged["partitions"]),
                retention_days=int(merged["retention_days"]),
                cleanup_policy=str(merged["cleanup_policy"]),
                key=str(merged.get("key", "")),
                description=str(merged.get("description", "")),
                writers=tuple(merged.get("writers", ())),
                readers=tuple(merged.get("readers", ())),
                personal=bool(merged.get("personal", True)),
                max_compaction_lag_hours=int(merged["max_compaction_lag_hours"]),
                delete_retention_hours=int(merged["delete_retention_hours"]),
            )
        )
    _check(services, principals, topics)
    return Platform(services, topics, principals)


def _check(services: dict[str, int], principals: dict[str, str], topics: list[Topic]) -> None:
    """Catch typos early: writers/readers must be declared services or principals."""
    if clash := set(services) & set(principals):
        raise ValueError(f"a principal may not be named like a service: {sorted(clash)}")
    known = set(services) | set(principals)
    for topic in topics:
        unknown = (set(topic.writers) | set(topic.readers)) - known
        if unknown:
            raise ValueError(f"{topic.name}: unknown writers/readers {sorted(unknown)}")
        if topic.personal and PARTNER in topic.readers:
            raise ValueError(f"{topic.name}: carries personal data, so `{PARTNER}` may not read it (ADR 0018)")
        if topic.cleanup_policy not in ("delete", "compact", "compact,delete", "delete,compact"):
            raise ValueError(f"{topic.name}: bad cleanup_policy {topic.cleanup_policy!r}")


class Grant(NamedTuple):
    """One least-privilege Kafka ACL: ``principal`` may ``operation`` the named resource."""

    principal: str  # a service, or a declared outside principal
    operation: str  # Kafka ACL operation: "Read" or "Write"
    resource_type: str  # "topic", or "group" (a prefix: every group the principal uses)
    resource: str


def non_personal_topics(platform: Platform | None = None) -> frozenset[str]:
    """The topics declared to carry nothing about one person (`personal = false`)."""
    return frozenset(t.name for t in (platform or load_platform()).topics if not t.personal)


def consumer_group_prefix(principal: str) -> str:
    """Each subscriber's group is ``<service>.<topic>`` (services/runtime/routing.py); an
    outside principal names its groups ``<principal>.<anything>``."""
    return f"{principal}."


def grants(platform: Platform) -> list[Grant]:
    """The ACLs the declaration implies: write what you write, read what you read, and
    use consumer groups under your own prefix. Nothing else is allowed."""
    acls = set()
    for topic in platform.topics:
        for writer in topic.writers:
            acls.add(Grant(writer, "Write", "topic", topic.name))
        for reader in topic.readers:
            acls.add(Grant(reader, "Read", "topic", topic.name))
    for principal in platform.kafka_principals:
        acls.add(Grant(principal, "Read", "group", consumer_group_prefix(principal)))
    return sorted(acls)
