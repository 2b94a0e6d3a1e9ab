"""What every command shares, and the rejection event that answers a refused one.

A command is a CloudEvent on `advocacy.<service>.commands.v1` whose `data` names the
`actor`: the pseudonymous id of whoever sends it (an advocate, an editor, a system).
A refused command is answered on the service's events topic by a
`advocacy.<service>.command.rejected.v1` event carrying the command's id and a
machine-readable reason, so the sender learns why.
"""

from typing import Annotated

from pydantic import Field

from schemas.envelope import Contract

ActorId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{3,64}$", description="Pseudonymous id of the sender")]
ReasonCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{2,63}$", examples=["actor_not_subject"])]


class Command(Contract):
    """Base of every command's `data`."""

    actor: ActorId


class Rejection(Contract):
    """`data` of a `…command.rejected.v1` event."""

    command_id: str = Field(max_length=200)
    command_type: str = Field(max_length=200)
    reason: ReasonCode
    detail: str = Field(default="", max_length=500, description="For people; never echoes input values")
