"""The curation rig: the shared rig (tests/integration/rig.py) with a clock the test sets, and
helpers to read curation's events, build a content system's commands, and call the HTTP
API as a signed-in editor or approver."""

from typing import Any

import httpx
from pydantic import TypeAdapter

from harness.issuer import TestIssuer
from harness.kafka import read_topic
from schemas import curation as c
from schemas.envelope import CloudEvent
from services.curation.config import CurationSettings, CurationTopics
from tests.integration.rig import Clock, ServiceRig

EVENT = TypeAdapter(c.AnyEvent)
EDITOR, APPROVER = ("editor",), ("approver",)


class CurationRig(ServiceRig):
    settings: CurationSettings
    topics: CurationTopics
    clock: Clock
    issuer: TestIssuer  # set by the fixture: signs the tokens of `as_`

    async def as_(self, who: str, roles: tuple[str, ...], method: str, path: str, body: Any = None) -> httpx.Response:
        """A request to the HTTP API (`curation.serving()`) by `who`, signed in with `roles`."""
        return await self.call(method, path, body, token=self.issuer.token(sub=who, realm_roles=roles))

    async def approve(self, item_id: str, approver: str = "editor-b") -> httpx.Response:
        """`approver` (an approver) reads the item and approves the version read."""
        read = await self.as_(approver, APPROVER, "GET", f"/api/items/{item_id}")
        assert read.status_code == 200, read.text
        return await self.as_(approver, APPROVER, "POST", f"/api/items/{item_id}/approve",
                              {"version": read.json()["version"]})

    async def approve_once_in_review(self, item_id: str, approver: str = "editor-b") -> dict[str, Any]:
        """Wait until the commands sent on Kafka put `item_id` in review; `approver` approves it."""
        await self.until("SELECT status FROM items WHERE id = $1", "in_review", item_id, what=f"{item_id} in review")
        approved = await self.approve(item_id, approver)
        assert approved.status_code == 200, approved.text
        return approved.json()

    async def audited_commands(self, item_id: str) -> list[str]:
        """The ids of the commands recorded on `item_id`, in order."""
        return [r["command_id"] for r in await self.fetch(
            "SELECT command_id FROM audit WHERE subject_id = $1 ORDER BY entry_id", item_id)]

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
