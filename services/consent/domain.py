"""The consent rules, pure: no I/O. Each rule raises `Rejected` with a stable reason."""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.commands import Rejected
from schemas.consent import ChangedBy, CollectionMethod, Purpose, Reason, Status

VALID = frozenset({Status.GIVEN, Status.RENEWED_GIVEN})
# Consent that still exists, so it can be withdrawn or revoked (renewal pending included).
STANDING = VALID | {Status.RENEWAL_REQUESTED}
# Giving again after these renews an earlier consent (dpv:RenewedConsentGiven).
RENEWABLE = STANDING | {Status.EXPIRED}


@dataclass(frozen=True)
class Policy:
    version: int
    content_hash: str


@dataclass(frozen=True)
class Change:
    """One advocate's consent to one purpose after a change: stored, ledgered, announced."""

    advocate_id: str
    purpose: Purpose
    status: Status
    changed_by: ChangedBy
    changed_at: datetime
    policy_version: int | None = None
    policy_hash: str | None = None
    collection_method: CollectionMethod | None = None
    expires_at: datetime | None = None

    @property
    def valid(self) -> bool:
        return self.status in VALID


def require_actor_is_subject(actor: str, advocate_id: str) -> None:
    """Nobody — no manager, no administrator — gives or withdraws consent for someone else."""
    if actor != advocate_id:
        raise Rejected(Reason.ACTOR_NOT_SUBJECT,
                       "only the advocate themself may give, refuse or withdraw their consent")


def require_current_policy(named: int, current: Policy | None, purpose: Purpose) -> Policy:
    """Consent names the policy version that was shown; it must be the current one."""
    if current is None or named > current.version:
        raise Rejected(Reason.UNKNOWN_POLICY_VERSION, f"no such policy version for {purpose.value}")
    if named < current.version:
        raise Rejected(Reason.OUTDATED_POLICY_VERSION, f"the current version of {purpose.value} is {current.version}")
    return current


def require_newer_policy(version: int, current: Policy | None) -> None:
    if current is not None and version <= current.version:
        raise Rejected(Reason.POLICY_VERSION_NOT_NEWER, f"the current version is {current.version}")


def status_after_giving(before: Status | None) -> Status:
    return Status.RENEWED_GIVEN if before in RENEWABLE else Status.GIVEN


def expiry(given_at: datetime, days: int) -> datetime:
    return given_at + timedelta(days=days)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def pseudonym(key: bytes, advocate_id: str) -> str:
    """One-way and keyed: the ledger's only reference to a person (see ADR 0005)."""
    return hmac.new(key, advocate_id.encode(), hashlib.sha256).hexdigest()
