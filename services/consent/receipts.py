"""Consent receipts an advocate can export: JSON, and a text rendering of the same.

Fields after ISO/IEC TS 27560 and the Kantara Consent Receipt: controller, purposes,
policy versions and hashes, collection method, timestamps, status, withdrawal method.
Only what is needed: the pseudonymous id, no policy texts (their hashes identify them),
and the history comes from the proof ledger with each entry's hash, so it can be checked.
"""

from datetime import datetime
from uuid import uuid4

from pydantic import BaseModel, Field

from schemas.consent import Purpose
from services.consent import domain, store
from services.consent.config import ConsentSettings
from services.runtime.unit_of_work import Connection

WITHDRAWAL_METHOD = ("Signed in, on the consent page, or through the consent service's HTTP API: "
                     "POST /api/me/consents/{purpose}/withdraw for one purpose, POST /api/me/consents/withdraw "
                     "for all. No reason needed; effective at once.")
FORMAT = "after ISO/IEC TS 27560:2023 and Kantara Consent Receipt 1.1"


class Controller(BaseModel):
    name: str
    contact: str


class HistoryEntry(BaseModel):
    at: datetime
    change: str
    policy_version: int | None
    policy_hash: str | None
    collection_method: str | None
    changed_by: str
    ledger_hash: str


class PurposeConsent(BaseModel):
    purpose: Purpose
    status: str = Field(description="Current status; 'erased' when the advocate's data was erased")
    valid: bool
    policy_version: int | None = None
    policy_hash: str | None = None
    collection_method: str | None = None
    changed_at: datetime | None = None
    expires_at: datetime | None = None
    history: list[HistoryEntry]


class Receipt(BaseModel):
    receipt_id: str = Field(default_factory=lambda: str(uuid4()))
    format: str = FORMAT
    issued_at: datetime
    controller: Controller
    advocate_id: str
    withdrawal_method: str = WITHDRAWAL_METHOD
    purposes: list[PurposeConsent]


async def build(conn: Connection, settings: ConsentSettings, advocate_id: str, now: datetime) -> Receipt:
    key = settings.consent_pseudonym_key.get_secret_value().encode()
    current = {change.purpose: change for change in await store.consents_of(conn, advocate_id)}
    entries = await store.ledger_of(conn, domain.pseudonym(key, advocate_id))
    purposes = []
    for purpose in Purpose:
        history = [HistoryEntry(at=e["occurred_at"], change=e["change"], policy_version=e["policy_version"],
                                policy_hash=e["policy_hash"], collection_method=e["method"],
                                changed_by=e["changed_by"], ledger_hash=e["entry_hash"])
                   for e in entries if e["purpose"] == purpose.value]
        latest = current.get(purpose)
        if latest is not None:
            purposes.append(PurposeConsent(
                purpose=purpose, status=latest.status.value, valid=latest.valid, policy_version=latest.policy_version,
                policy_hash=latest.policy_hash, collection_method=latest.collection_method,
                changed_at=latest.changed_at, expires_at=latest.expires_at, history=history))
        elif history:  # erased: only the ledger's proof remains
            purposes.append(PurposeConsent(purpose=purpose, status="erased", valid=False, history=history))
    return Receipt(issued_at=now, controller=Controller(name=settings.consent_controller,
                   contact=settings.consent_controller_contact), advocate_id=advocate_id, purposes=purposes)


def render_text(receipt: Receipt) -> str:
    lines = [
        f"Consent receipt {receipt.receipt_id}",
        f"Issued {receipt.issued_at:%Y-%m-%d %H:%M} UTC for {receipt.advocate_id}",
        f"Controller: {receipt.controller.name} <{receipt.controller.contact}>", "",
    ]
    if not receipt.purposes:
        lines.append("No consent on record.")
    for p in receipt.purposes:
        state = "valid" if p.valid else "not valid"
        version = f", policy v{p.policy_version} (sha256 {(p.policy_hash or '')[:12]}…)" if p.policy_version else ""
        lines.append(f"{p.purpose.value}: {p.status} ({state}){version}")
        if p.expires_at:
            lines.append(f"  expires {p.expires_at:%Y-%m-%d}")
        for h in p.history:
            how = f" via {h.collection_method}" if h.collection_method else ""
            lines.append(f"  {h.at:%Y-%m-%d %H:%M} {h.change} by {h.changed_by}{how} [proof {h.ledger_hash[:12]}]")
    lines += ["", f"To withdraw: {receipt.withdrawal_method}", f"Format: {receipt.format}"]
    return "\n".join(lines) + "\n"
