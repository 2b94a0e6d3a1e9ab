"""A probe HTTP API built with the front-door kit (services/runtime/api), to test the kit
itself the way a service will use it: one command that writes a row and emits an event
through the outbox, one list paged newest first, one endpoint for a role, one bug."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal
from uuid import uuid4

import asyncpg
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from schemas.envelope import CloudEvent
from services.runtime.api import (
    Db,
    HttpApi,
    Keyset,
    Page,
    Paging,
    SignedIn,
    paginate,
    problem_responses,
    requires_role,
)
from services.runtime.identity import Authenticator, Principal
from services.runtime.rejections import Rejected
from services.runtime.routing import ServiceRouter
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings
from services.runtime.unit_of_work import UnitOfWork

MIGRATIONS = Path(__file__).with_name("migrations")
NEWEST_FIRST = Keyset(datetime, str)  # ORDER BY at DESC, note_id DESC


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=500)


class Note(BaseModel):
    note_id: str
    advocate_id: str
    text: str
    at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> "Note":
        return cls(**dict(row))


class NoteTaken(CloudEvent[Note]):
    type: Literal["test.note.taken.v1"] = "test.note.taken.v1"


async def take_note(uow: UnitOfWork, topic: str, actor: str, advocate_id: str, text: str) -> Note:
    """The command's domain rule and effect. It writes first and checks afterwards, on
    purpose: a refusal must leave neither the row nor the event behind."""
    note = Note(note_id=str(uuid4()), advocate_id=advocate_id, text=text, at=datetime.now(UTC))
    await uow.conn.execute("INSERT INTO notes (note_id, advocate_id, text, at) VALUES ($1, $2, $3, $4)",
                           note.note_id, note.advocate_id, note.text, note.at)
    await uow.emit(topic, NoteTaken, advocate_id, note)
    if actor != advocate_id:
        raise Rejected("actor_not_subject", "only the advocate themself may take their notes")
    if not text.strip():
        raise Rejected("note_empty", "a note needs some text")
    return note


def probe_router(topic: str) -> APIRouter:
    router = APIRouter()

    @router.post("/people/{advocate_id}/notes", status_code=201, responses=problem_responses(403, 422))
    async def take(advocate_id: str, body: NoteIn, me: SignedIn, db: Db) -> Note:
        return await db.command(lambda uow: take_note(uow, topic, me.advocate_id, advocate_id, body.text))

    @router.get("/notes")
    async def my_notes(me: SignedIn, db: Db, page: Paging) -> Page[Note]:
        at, note_id = page.after(NEWEST_FIRST)
        rows = await db.query(lambda conn: conn.fetch(
            """SELECT note_id, advocate_id, text, at FROM notes
               WHERE advocate_id = $1 AND ($2::timestamptz IS NULL OR (at, note_id) < ($2, $3))
               ORDER BY at DESC, note_id DESC LIMIT $4""", me.advocate_id, at, note_id, page.limit + 1))
        return paginate(rows, page, NEWEST_FIRST, lambda row: (row["at"], row["note_id"]), Note.from_row)

    @router.get("/moderation/notes/count", responses=problem_responses(403))
    async def count(moderator: Annotated[Principal, requires_role("moderator")], db: Db) -> dict[str, int]:
        return {"notes": await db.query(lambda conn: conn.fetchval("SELECT count(*) FROM notes"))}

    @router.get("/bug", include_in_schema=False)
    async def bug(me: SignedIn) -> None:
        raise RuntimeError("a bug whose message quotes jane.doe@example.com")

    return router


def build_probe_service(settings: ServiceSettings, topic: str, authenticator: Authenticator) -> Service:
    service = Service(settings, ServiceRouter(settings.service), MIGRATIONS)
    service.mount_api(HttpApi(settings, probe_router(topic), authenticator=authenticator))
    return service
