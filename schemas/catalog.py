"""Every contract of the platform, by topic. Add a model here when you add one to schemas/."""

from schemas import directory
from schemas.envelope import CloudEvent

CONTRACTS: dict[str, list[type[CloudEvent]]] = {
    directory.TOPIC: [directory.PersonJoined, directory.PersonChanged, directory.PersonLeft],
}

SERVICES = ("curation", "consent", "distribution", "metrics")
