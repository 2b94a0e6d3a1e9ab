"""Lists over HTTP: newest first, a page at a time, continued by an opaque cursor.

Keyset pagination (no OFFSET): the cursor holds the sort key of the last row shown, so a
page costs the same however deep, and rows written meanwhile neither repeat nor go
missing. An endpoint reads `limit + 1` rows after the cursor's position; the extra row
only tells whether there is a next page:

    NOTES = Keyset(datetime, str)  # ORDER BY at DESC, note_id DESC

    @router.get("/notes")
    async def notes(me: SignedIn, db: Db, page: Paging) -> Page[Note]:
        at, note_id = page.after(NOTES)
        rows = await db.query(lambda conn: conn.fetch(
            "SELECT ... WHERE advocate_id = $1 AND ($2::timestamptz IS NULL OR (at, note_id) < ($2, $3))"
            " ORDER BY at DESC, note_id DESC LIMIT $4", me.advocate_id, at, note_id, page.limit + 1))
        return paginate(rows, page, NOTES, lambda r: (r["at"], r["note_id"]), Note.from_row)
"""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from services.runtime.api.problems import HttpProblem

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_MAX_CURSOR_CHARS = 512

T = TypeVar("T")
R = TypeVar("R")
Position = tuple[datetime | str | int, ...]


class Keyset:
    """The sort key of a list, newest first, by the types of its parts: `Keyset(datetime, str)`
    for `ORDER BY at DESC, id DESC`. Encodes a position as a cursor and back."""

    def __init__(self, *kinds: type) -> None:
        if not kinds or not all(kind in (datetime, str, int) for kind in kinds):
            raise TypeError("a keyset is made of datetime, str and int parts")
        self.kinds = kinds

    def encode(self, position: Position) -> str:
        parts = [part.isoformat() if isinstance(part, datetime) else part for part in position]
        return base64.urlsafe_b64encode(json.dumps(parts, separators=(",", ":")).encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> Position:
        """The position a cursor holds; `HttpProblem` 400 `invalid_cursor` if it is not one of ours."""
        try:
            parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            if not isinstance(parts, list) or len(parts) != len(self.kinds):
                raise ValueError
            return tuple(_part(kind, part) for kind, part in zip(self.kinds, parts, strict=True))
        except (ValueError, TypeError, OverflowError, binascii.Error, RecursionError):
            raise HttpProblem(400, "invalid_cursor", "The cursor is not one this list gave out.") from None


def _part(kind: type, value: Any) -> datetime | str | int:
    """One part of a position, as the database can compare it: an aware time that is still a
    time in UTC (Postgres' timestamptz), a bigint, or text without NUL or a lone surrogate
    (Postgres' text refuses both). ValueError otherwise: a cursor nobody gave out."""
    if kind is datetime and isinstance(value, str):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None:
            moment.astimezone(UTC)  # OverflowError near year 1 or 9999
            return moment
    elif kind is int and isinstance(value, int) and not isinstance(value, bool) and -2**63 <= value < 2**63:
        return value
    elif kind is str and isinstance(value, str) and "\x00" not in value:
        value.encode("utf-8")  # UnicodeEncodeError (a ValueError) for a lone surrogate
        return value
    raise ValueError


@dataclass(frozen=True)
class PageRequest:
    """What page a client asked for: at most `limit` items after `cursor` (None: the newest)."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    def after(self, keyset: Keyset) -> tuple[Any, ...]:
        """The position to continue after, or a tuple of Nones for the first page."""
        return keyset.decode(self.cursor) if self.cursor else (None,) * len(keyset.kinds)


async def page_request(  # async: FastAPI runs a plain `def` dependency in a worker thread
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Most items on the page")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=_MAX_CURSOR_CHARS,
                                        description="`next_cursor` of the previous page; none for the newest")] = None,
) -> PageRequest:
    """The dependency an endpoint of a list takes (`Paging`)."""
    return PageRequest(limit, cursor)


class Page(BaseModel, Generic[T]):
    """A page of a list, newest first."""

    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next, older page; null on the last page")


def paginate(rows: Sequence[R], page: PageRequest, keyset: Keyset,
             position: Callable[[R], Position], item: Callable[[R], T]) -> Page[T]:
    """The page of `rows`, read with `LIMIT page.limit + 1` in the keyset's order."""
    shown = rows[:page.limit]
    more = len(rows) > page.limit
    return Page[Any](items=[item(row) for row in shown],
                     next_cursor=keyset.encode(position(shown[-1])) if more and shown else None)
