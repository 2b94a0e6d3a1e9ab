"""Consent contracts: commands to the consent service and the events it publishes.

Statuses follow the W3C Data Privacy Vocabulary (dpv:ConsentStatus): `given` and
`renewed_given` are valid for processing; `refused`, `withdrawn` (by the person),
`revoked` (by the controller), `expired` and `renewal_requested` are not.
Consent is given, refused and withdrawn only by the advocate themself, signed in through
the consent service's HTTP API, where the actor is who signed in; on Kafka, where the actor
is a field the sender fills in, these three commands are refused (`sign_in_required`). The
rule that the actor is the advocate (`actor_not_subject`) stays in the domain all the same.
The privacy office's commands (publish a policy, erase, verify the ledger) come both ways.
"""

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from schemas.commands import Command, RefusalReason, Rejection
from schemas.directory import AdvocateId
from schemas.envelope import CloudEvent, Flag, Instant, keyed_by
from schemas.networks import shows_something

COMMANDS_TOPIC = "advocacy.consent.commands.v1"
EVENTS_TOPIC = "advocacy.consent.events.v1"
STATE_TOPIC = "advocacy.consent.state.v1"  # compacted; key `advocate_id:purpose`; null value on erasure
POLICIES_TOPIC = "advocacy.consent.policies.v1"  # compacted; key `purpose`: the current text of each


# A policy's version number: the store's integer (ADR 0037).
VersionNumber = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Reason(RefusalReason):
    """Why the consent service refused a command."""

    ACTOR_NOT_SUBJECT = "actor_not_subject", "give, refuse or withdraw sent by anyone but the advocate"
    NOT_IN_DIRECTORY = "not_in_directory", "give or refuse for someone not in the directory"
    UNKNOWN_POLICY_VERSION = "unknown_policy_version", "the policy version named does not exist (yet)"
    OUTDATED_POLICY_VERSION = "outdated_policy_version", "the policy version named is not the current one"
    POLICY_VERSION_NOT_NEWER = "policy_version_not_newer", "a published version is not above the current one"
    SIGN_IN_REQUIRED = "sign_in_required", "give, refuse or withdraw on Kafka: only the person, signed in over HTTP"


Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256, hex")]


class Purpose(StrEnum):
    """Each purpose is consented to on its own: no bundling."""

    RECEIVE_CONTENT = "receive_content"  # be in audiences, feed and notifications
    SHARE_ATTRIBUTION = "share_attribution"  # my shares and clicks are counted as mine
    NETWORK_REACH = "network_reach"  # my follower count may be used for reach
    LEADERBOARD = "leaderboard"  # appear in rankings
    SCHEDULED_SHARING = "scheduled_sharing"  # a connector may post for me at a set time


class Status(StrEnum):
    GIVEN = "given"
    RENEWED_GIVEN = "renewed_given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"
    EXPIRED = "expired"
    RENEWAL_REQUESTED = "renewal_requested"


class CollectionMethod(StrEnum):
    """How the choice was collected (Kantara: collection method)."""

    WEB_FORM = "web_form"
    MOBILE_APP = "mobile_app"
    EMAIL_LINK = "email_link"
    API = "api"


class ChangedBy(StrEnum):
    SUBJECT = "subject"  # the advocate themself
    CONTROLLER = "controller"  # the company: revocation on leaving, expiry, renewal request


# Commands ---------------------------------------------------------------------------

class Choice(Command):
    """A person's yes or no to one purpose, naming the policy version they were shown."""

    advocate_id: AdvocateId
    purpose: Purpose
    policy_version: VersionNumber
    collection_method: CollectionMethod


class Withdrawal(Command):
    advocate_id: AdvocateId
    purpose: Purpose | None = Field(default=None, description="Omitted: every purpose")


class PolicyText(Command):
    purpose: Purpose
    version: VersionNumber = Field(description="Must be newer than the current version")
    text: Annotated[str, AfterValidator(shows_something)] = Field(min_length=1, max_length=20000)
    requires_renewal: Flag = Field(description="Existing consents move to renewal_requested")


class Erasure(Command):
    advocate_id: AdvocateId


class LedgerCheck(Command):
    """Recompute the proof ledger's hash chain."""


class GiveConsent(CloudEvent[Choice]):
    type: Literal["advocacy.consent.give.v1"] = "advocacy.consent.give.v1"
    _keyed = keyed_by("advocate_id")


class RefuseConsent(CloudEvent[Choice]):
    type: Literal["advocacy.consent.refuse.v1"] = "advocacy.consent.refuse.v1"
    _keyed = keyed_by("advocate_id")


class WithdrawConsent(CloudEvent[Withdrawal]):
    type: Literal["advocacy.consent.withdraw.v1"] = "advocacy.consent.withdraw.v1"
    _keyed = keyed_by("advocate_id")


class PublishPolicy(CloudEvent[PolicyText]):
    """Subject: the purpose."""

    type: Literal["advocacy.consent.policy.publish.v1"] = "advocacy.consent.policy.publish.v1"
    _keyed = keyed_by("purpose")


class EraseAdvocate(CloudEvent[Erasure]):
    type: Literal["advocacy.consent.advocate.erase.v1"] = "advocacy.consent.advocate.erase.v1"
    _keyed = keyed_by("advocate_id")


class VerifyLedger(CloudEvent[LedgerCheck]):
    type: Literal["advocacy.consent.ledger.verify.v1"] = "advocacy.consent.ledger.verify.v1"
    subject_is: ClassVar[str] = 'anything ("ledger" when sent over HTTP)'


ConsentCommand = Annotated[
    GiveConsent | RefuseConsent | WithdrawConsent | PublishPolicy | EraseAdvocate | VerifyLedger,
    Field(discriminator="type"),
]


# Events -----------------------------------------------------------------------------

class Published(BaseModel):
    """Base of what the service publishes: strict, so a typo is caught in our own tests."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ConsentRecord(Published):
    """One advocate's consent to one purpose, as it is after the change."""

    advocate_id: AdvocateId
    purpose: Purpose
    status: Status
    valid: Flag = Field(description="True only for given and renewed_given")
    policy_version: VersionNumber | None = None
    policy_hash: Sha256 | None = None
    collection_method: CollectionMethod | None = None
    changed_by: ChangedBy
    changed_at: Instant
    expires_at: Instant | None = None
    ledger_hash: Sha256 = Field(description="Hash of the proof ledger entry recording this change")


class PolicyVersion(Published):
    purpose: Purpose
    version: VersionNumber
    text: str
    content_hash: Sha256 = Field(description="SHA-256 of the UTF-8 text")
    requires_renewal: Flag
    published_at: Instant


class AdvocateErasure(Published):
    advocate_id: AdvocateId
    erased_at: Instant


class LedgerVerification(Published):
    entries: int
    intact: Flag
    first_broken_seq: int | None = Field(default=None, description="The first entry that does not verify")
    head_hash: Sha256 | None = None
    verified_at: Instant


class SequencedRecord(CloudEvent[ConsentRecord]):
    """Base of the events that carry a consent record: the envelope's `consentsequence`
    (a CloudEvents extension attribute, so readers of the released contracts ignore it)."""

    subject_is: ClassVar[str] = "data.advocate_id"

    consentsequence: int | None = Field(default=None, ge=1, le=2**63 - 1, description=(
        "The proof ledger's number of this change, given in the transaction that made it: it grows with every "
        "change the consent service commits, so a person's later change always carries a higher one. Consumers "
        "apply a change only if its number is above the one they hold for that person and purpose, never by "
        "comparing times (ADR 0019). Absent only on records from before it existed"))


class ConsentGiven(SequencedRecord):
    """Status given, or renewed_given when it renews an earlier consent."""

    type: Literal["advocacy.consent.given.v1"] = "advocacy.consent.given.v1"


class ConsentRefused(SequencedRecord):
    type: Literal["advocacy.consent.refused.v1"] = "advocacy.consent.refused.v1"


class ConsentWithdrawn(SequencedRecord):
    type: Literal["advocacy.consent.withdrawn.v1"] = "advocacy.consent.withdrawn.v1"


class ConsentRevoked(SequencedRecord):
    type: Literal["advocacy.consent.revoked.v1"] = "advocacy.consent.revoked.v1"


class ConsentExpired(SequencedRecord):
    type: Literal["advocacy.consent.expired.v1"] = "advocacy.consent.expired.v1"


class ConsentRenewalRequested(SequencedRecord):
    type: Literal["advocacy.consent.renewal.requested.v1"] = "advocacy.consent.renewal.requested.v1"


class PolicyPublished(CloudEvent[PolicyVersion]):
    """Subject: the purpose."""

    type: Literal["advocacy.consent.policy.published.v1"] = "advocacy.consent.policy.published.v1"
    subject_is: ClassVar[str] = "data.purpose"


class AdvocateErased(CloudEvent[AdvocateErasure]):
    """Every service deletes what it holds about this advocate."""

    type: Literal["advocacy.consent.advocate.erased.v1"] = "advocacy.consent.advocate.erased.v1"
    subject_is: ClassVar[str] = "data.advocate_id"


class LedgerVerified(CloudEvent[LedgerVerification]):
    type: Literal["advocacy.consent.ledger.verified.v1"] = "advocacy.consent.ledger.verified.v1"
    subject_is: ClassVar[str] = "the verifying command's subject"


class ConsentCommandRejected(CloudEvent[Rejection]):
    type: Literal["advocacy.consent.command.rejected.v1"] = "advocacy.consent.command.rejected.v1"
    subject_is: ClassVar[str] = "the refused command's subject"


# The events that carry one advocate's consent record for one purpose, after a change.
RecordEvent = (ConsentGiven | ConsentRefused | ConsentWithdrawn | ConsentRevoked | ConsentExpired
               | ConsentRenewalRequested)
RECORD_EVENTS: tuple[type[CloudEvent[ConsentRecord]], ...] = (
    ConsentGiven, ConsentRefused, ConsentWithdrawn, ConsentRevoked, ConsentExpired, ConsentRenewalRequested)

ConsentEvent = Annotated[
    ConsentGiven | ConsentRefused | ConsentWithdrawn | ConsentRevoked | ConsentExpired | ConsentRenewalRequested
    | PolicyPublished | AdvocateErased | LedgerVerified | ConsentCommandRejected,
    Field(discriminator="type"),
]


class PolicyCurrent(CloudEvent[PolicyVersion]):
    """On the compacted policies topic, keyed by purpose: the version a `give` must name now,
    with its text. A subscriber that starts today reads it from the beginning of the topic;
    `policy.published` on the events topic is kept only for the topic's retention."""

    type: Literal["advocacy.consent.policy.current.v1"] = "advocacy.consent.policy.current.v1"
    subject_is: ClassVar[str] = "data.purpose"


class ConsentState(SequencedRecord):
    """On the compacted state topic, keyed `advocate_id:purpose`: the latest record wins."""

    subject_is: ClassVar[str] = "data.advocate_id:data.purpose"

    type: Literal["advocacy.consent.state.v1"] = "advocacy.consent.state.v1"
