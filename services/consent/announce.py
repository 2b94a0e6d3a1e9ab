"""Announcing consent changes: a proof ledger entry each, then an event and the new state.

Called last in a handler's transaction, because the ledger append takes the chain's
lock: every other lock is then taken before it, never after, so appends cannot deadlock.
"""

from collections.abc import Sequence

from schemas import consent as c
from schemas.envelope import CloudEvent
from services.consent import domain, ledger
from services.consent.config import ConsentTopics
from services.consent.domain import Change
from services.runtime.unit_of_work import UnitOfWork


class Announcer:
    def __init__(self, topics: ConsentTopics, pseudonym_key: bytes) -> None:
        self.topics = topics
        self.key = pseudonym_key

    async def announce(self, uow: UnitOfWork, event_type: type[CloudEvent[c.ConsentRecord]],
                       changes: Sequence[Change]) -> None:
        if not changes:
            return
        # Deferred where the transaction defers its writes (group commit): nothing after an
        # announcement reads the ledger in the same transaction.
        numbered = await ledger.append_numbered(uow.conn, [self.entry(change) for change in changes], uow.held,
                                                uow.deferred)
        records = [(change, record(change, h)) for change, (_, h) in zip(changes, numbered, strict=True)]
        # Each change's ledger seq: its place in consent's order, which consumers apply by (ADR 0019).
        sequences = [{"consentsequence": seq} for seq, _ in numbered]
        await uow.emit_together(  # one round trip for both topics
            (self.topics.events, event_type, [(ch.advocate_id, r) for ch, r in records], sequences),
            (self.topics.state, c.ConsentState, [(f"{ch.advocate_id}:{ch.purpose.value}", r) for ch, r in records],
             sequences))

    def pseudonym(self, advocate_id: str) -> str:
        return domain.pseudonym(self.key, advocate_id)

    def entry(self, change: Change) -> ledger.Entry:
        return ledger.Entry(
            self.pseudonym(change.advocate_id), change.purpose.value, change.status.value, change.policy_version,
            change.policy_hash, change.collection_method.value if change.collection_method else None,
            change.changed_by.value, change.changed_at)


def record(change: Change, ledger_hash: str) -> c.ConsentRecord:
    return c.ConsentRecord(
        advocate_id=change.advocate_id, purpose=change.purpose, status=change.status, valid=change.valid,
        policy_version=change.policy_version, policy_hash=change.policy_hash,
        collection_method=change.collection_method, changed_by=change.changed_by,
        changed_at=change.changed_at, expires_at=change.expires_at, ledger_hash=ledger_hash)
