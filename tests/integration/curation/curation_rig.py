"""The curation rig: the shared rig (tests/integration/rig.py) with a clock the test sets, and
helpers to read curation's events and build editors' commands."""

from typing import Any

from pydantic import TypeAdapter

from schemas import curation as c
from schemas.envelope import CloudEvent
from harness.kafka import read_topic
from services.curation.config import CurationSettings, CurationTopics
from tests.integration.rig import NOW, Clock, ServiceRig

EVENT = TypeAdapter(c.AnyEvent)


class CurationRig(ServiceRig):
    settings: CurationSettings
    topics: CurationTopics
    clock: Clock

    async def events(self, at_least: int, settle: float = 0.5, timeout: float = 30.0) -> list[CloudEvent[Any]]:
        """Every event the service has emitted, decoded: at least `at_least`, plus what comes
        within `settle`."""
        records = await read_topic(self.bootstrap, self.topics.events, at_least, timeout=timeout, settle=settle)
        return [EVENT.validate_json(r.value) for r in records]


def about(events: list[CloudEvent[Any]], subject: str) -> list[str]:
    """The short types of the events about `subject`, in order: ['drafted', 'submitted', …]."""
    return [e.type.removeprefix("advocacy.curation.").removesuffix(".v1").split(".", 1)[1]
            for e in events if e.subject == subject]


def rejections(events: list[CloudEvent[Any]]) -> dict[str, str]:
    """Reason by command id."""
    return {e.data.command_id: e.data.reason for e in events if isinstance(e, c.CurationCommandRejected)}


# Commands, built the way an editor's app sends them.

def content(**changes: Any) -> c.ItemContent:
    fields = dict(source_url="https://example.com/news/plant", title="Our new plant opens", summary="Today.",
                  language="en", topics=["sustainability"], content_type="article", hashtags=["energy"],
                  disclosure="#employee", share_texts={"linkedin": "Proud of our team!", "x": "New plant!"},
                  audience={"roles": ["employee", "partner"], "languages": ["en", "de"]}, editable=False)
    return c.ItemContent(**{**fields, **changes})


def command(kind: type[CloudEvent[Any]], subject: str, actor: str = "editor-a", **data: Any) -> CloudEvent[Any]:
    data_model = kind.model_fields["data"].annotation
    return kind(source="/editor-app", subject=subject, data=data_model(actor=actor, **data))
