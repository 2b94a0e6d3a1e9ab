"""Directory events: HR and CRM systems announce people joining, changing and leaving.

All four services read them. People appear only by a pseudonymous `advocate_id`;
no names or contact data: `Contract` rejects unknown fields.
"""

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from schemas.envelope import CloudEvent, Contract, TextsWithoutNul, keyed_by

TOPIC = "advocacy.directory.v1"

AdvocateId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$", description="Pseudonymous id")]
Label = Annotated[str, Field(min_length=1, max_length=80)]


class Role(StrEnum):
    EMPLOYEE = "employee"
    PARTNER = "partner"
    SUPPLIER = "supplier"
    AGENCY = "agency"
    PRESS = "press"
    FAN = "fan"


class Digest(StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"
    OFF = "off"


class Network(StrEnum):
    LINKEDIN = "linkedin"
    X = "x"
    XING = "xing"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"


class Profile(Contract, TextsWithoutNul):
    advocate_id: AdvocateId
    role: Role
    org_unit: Label | None = None
    location: Label | None = None
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2}$")]] = Field(default_factory=list, max_length=10)
    interests: list[Label] = Field(default_factory=list, max_length=50, description="Topics of interest")
    digest: Digest = Digest.DAILY
    networks: list[Network] = Field(default_factory=list, description="Connected social networks")


class Departure(Contract):
    advocate_id: AdvocateId


class PersonJoined(CloudEvent[Profile]):
    type: Literal["advocacy.directory.person.joined.v1"] = "advocacy.directory.person.joined.v1"
    ordered_by: ClassVar[str | None] = "time"  # the newer profile wins (services/runtime/directory.py)
    _keyed = keyed_by("advocate_id")


class PersonChanged(CloudEvent[Profile]):
    type: Literal["advocacy.directory.person.changed.v1"] = "advocacy.directory.person.changed.v1"
    ordered_by: ClassVar[str | None] = "time"
    _keyed = keyed_by("advocate_id")


class PersonLeft(CloudEvent[Departure]):
    type: Literal["advocacy.directory.person.left.v1"] = "advocacy.directory.person.left.v1"
    # Not `ordered_by`: leaving always removes the person, whatever its time; one dated more
    # than a day ahead is remembered as a day ahead (services/runtime/directory.py, ADR 0038).
    _keyed = keyed_by("advocate_id")


DirectoryEvent = Annotated[PersonJoined | PersonChanged | PersonLeft, Field(discriminator="type")]
