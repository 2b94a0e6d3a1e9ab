"""What every command shares, why a command is refused, and the event that says so.

A command is a CloudEvent on `advocacy.<service>.commands.v1` whose `data` names the
`actor`: the pseudonymous id of whoever sends it (an advocate, an editor, a system).
A rule that refuses a command raises `Rejected` with one of its service's `Reason`s; the
sender is answered on the service's events topic by an
`advocacy.<service>.command.rejected.v1` event carrying the command's id and that reason.
"""

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field

from schemas.envelope import Contract

ActorId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{3,64}$", description="Pseudonymous id of the sender")]
ReasonCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{2,63}$", examples=["command_not_fresh"])]  # any service's


class RefusalReason(StrEnum):
    """Base of each service's `Reason`: a stable snake_case code plus, for people, when it
    is given. Members are written `NAME = "code", "when it is given"`; the README's table of
    rejection reasons is generated from them (`make contracts`)."""

    when: str

    def __new__(cls, code: str, when: str = "") -> Self:
        member = str.__new__(cls, code)
        member._value_ = code
        member.when = when
        return member


class CommandReason(RefusalReason):
    """Why any service refused a command as it came on Kafka, before its own rules (ADR 0019)."""

    KEY_NOT_SUBJECT = "key_not_subject", "a command on Kafka whose record key is not its subject"
    COMMAND_NOT_FRESH = ("command_not_fresh", "a command on Kafka whose `time` is further from now than the "
                         "freshness window (COMMAND_MAX_AGE_SECONDS, 24 h): e.g. an old one replayed from dead letters")


class Rejected(Exception):
    """A command refused by a rule. `reason` is machine-readable; `detail` is for people and
    never echoes the values sent."""

    def __init__(self, reason: RefusalReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail


class Command(Contract):
    """Base of every command's `data`."""

    actor: ActorId


class Rejection(Contract):
    """`data` of a `…command.rejected.v1` event."""

    command_id: str = Field(max_length=200)
    command_type: str = Field(max_length=200)
    reason: ReasonCode
    detail: str = Field(default="", max_length=500, description="For people; never echoes input values")
