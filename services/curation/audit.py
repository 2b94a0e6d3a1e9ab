"""The audit trail's vocabulary: who did what, when, to which item, campaign or source, and
through which door. Pure: no I/O (store.py writes it, queries.py reads it).

An entry is written by the handler, in the transaction of the change it records, so it
exists exactly when the change does; a refused command changes nothing and leaves none
(its refusal is answered, and counted in `/metrics`). An entry never holds content: no
title, text, note or reason, only ids and the action's name (ADR 0013).
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Action(StrEnum):
    DRAFT = "item.draft"
    EDIT = "item.edit"  # before publication, or fields of a published item that apply at once
    REVISE = "item.revise"  # an edit of a published item whose reviewed fields wait for approval
    SUBMIT = "item.submit"
    APPROVE = "item.approve"
    APPROVE_REVISION = "item.approve_revision"
    SEND_BACK = "item.send_back"
    SEND_BACK_REVISION = "item.send_back_revision"
    PUBLISH = "item.publish"
    SCHEDULE = "item.schedule"
    RETRACT = "item.retract"
    CREATE_CAMPAIGN = "campaign.create"
    CHANGE_CAMPAIGN = "campaign.change"
    REGISTER_SOURCE = "source.register"
    PAUSE_SOURCE = "source.pause"
    RESUME_SOURCE = "source.resume"
    REMOVE_SOURCE = "source.remove"

    @property
    def subject_kind(self) -> str:
        """What the action's subject id names: `item`, `campaign` or `source`."""
        return self.value.split(".", 1)[0]


class Channel(StrEnum):
    """How the command came: `api`, from a person who signed in (the actor is who they
    are); `kafka`, from a content system (the actor is who that system says)."""

    API = "api"
    KAFKA = "kafka"


@dataclass(frozen=True)
class Entry:
    at: datetime
    actor: str  # pseudonymous id; "erased" once that person was erased
    action: Action
    subject_id: str
    channel: Channel
    command_id: str  # the command's CloudEvent id: its events carry it as causationid
    entry_id: int = 0  # given by the table, in order of writing
