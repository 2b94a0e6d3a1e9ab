"""A feed source's life: active, paused, removed. Pure: no I/O.

Pausing stops the polls until the source is resumed; removing stops them for good. A
removed source stays as a tombstone: its entries still count for de-duplication and its
id is not registered again (`source_exists`). Pausing a paused source, or resuming an
active one, is not an error: the command states what the source should be.
"""

from schemas import curation as c
from schemas.commands import Rejected
from schemas.curation import Reason
from schemas.curation import SourceStatus as S

_STEPS: dict[type, tuple[S, type]] = {
    c.PauseSource: (S.PAUSED, c.SourcePaused),
    c.ResumeSource: (S.ACTIVE, c.SourceResumed),
    c.RemoveSource: (S.REMOVED, c.SourceRemoved),
}


def change(current: S | None, command: type) -> tuple[S, type]:
    """The source's next status and the event announcing it. Raises `Rejected`:
    `unknown_source` (no such source) or `source_removed` (removed sources stay removed)."""
    if current is None:
        raise Rejected(Reason.UNKNOWN_SOURCE, "no source with this id")
    status, event = _STEPS[command]
    if current is S.REMOVED:
        raise Rejected(Reason.SOURCE_REMOVED, "a removed source cannot be paused, resumed or removed again")
    return status, event
