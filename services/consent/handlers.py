"""What each consent command, directory event and expiry run does.

Every handler is `(uow, message)`, listed in a table by message type (`commands`,
`directory`); app.py subscribes the tables, and the HTTP API (api.py) calls the same
methods with the command it builds for the signed-in person. Rules come from `domain`, SQL
from `store`; every change is appended to the proof ledger and announced on the events and
state topics, all in the handler's one transaction, so a change, its proof and its events
exist together or not at all.
"""

from collections.abc import Callable
from datetime import datetime

from schemas import consent as c
from schemas import directory as d
from schemas.commands import Rejected
from schemas.consent import Reason
from services.consent import domain, ledger, store
from services.consent.announce import Announcer
from services.consent.config import ConsentSettings, ConsentTopics
from services.consent.domain import Change
from services.runtime import directory
from services.runtime.handling import Table
from services.runtime.unit_of_work import UnitOfWork

Clock = Callable[[], datetime]


class ConsentHandlers:
    """Every handler of the consent service, with what they share: settings, topics, clock."""

    def __init__(self, settings: ConsentSettings, topics: ConsentTopics, clock: Clock) -> None:
        self.settings = settings
        self.topics = topics
        self.clock = clock
        self.announcer = Announcer(topics, settings.consent_pseudonym_key.get_secret_value().encode())
        self.commands: Table = {
            c.GiveConsent: self.give, c.RefuseConsent: self.refuse, c.WithdrawConsent: self.withdraw,
            c.PublishPolicy: self.publish_policy, c.EraseAdvocate: self.erase, c.VerifyLedger: self.verify,
        }
        self.directory: Table = {
            d.PersonJoined: directory.apply, d.PersonChanged: directory.apply, d.PersonLeft: self.leave,
        }

    async def give(self, uow: UnitOfWork, command: c.GiveConsent) -> None:
        await self.given(uow, command)

    async def refuse(self, uow: UnitOfWork, command: c.RefuseConsent) -> None:
        await self.refused(uow, command)

    async def given(self, uow: UnitOfWork, command: c.GiveConsent) -> Change:
        """`give`, returning the change made (the HTTP API answers from it)."""
        return await self._choose(uow, command.data, c.ConsentGiven)

    async def refused(self, uow: UnitOfWork, command: c.RefuseConsent) -> Change:
        """`refuse`, returning the change made."""
        return await self._choose(uow, command.data, c.ConsentRefused)

    async def _choose(self, uow: UnitOfWork, choice: c.Choice,
                      event_type: type[c.ConsentGiven | c.ConsentRefused]) -> Change:
        domain.require_actor_is_subject(choice.actor, choice.advocate_id)
        # Locks the person until commit, so a concurrent leave waits and then revokes this choice.
        known, current, before = await store.choice_state(uow.conn, choice.advocate_id, choice.purpose)
        if not known:
            raise Rejected(Reason.NOT_IN_DIRECTORY, "consent is recorded only for people in the directory")
        policy = domain.require_current_policy(choice.policy_version, current, choice.purpose)
        now, giving = self.clock(), event_type is c.ConsentGiven
        change = Change(
            choice.advocate_id, choice.purpose,
            domain.status_after_giving(before) if giving else c.Status.REFUSED,
            c.ChangedBy.SUBJECT, now, policy.version, policy.content_hash, choice.collection_method,
            domain.expiry(now, self.settings.consent_expiry_days) if giving else None,
        )
        await store.save(uow.conn, change)
        await self.announcer.announce(uow, event_type, [change])
        return change

    async def withdraw(self, uow: UnitOfWork, command: c.WithdrawConsent) -> None:
        """Always accepted from the person; what was never given is left as it is (no event)."""
        await self.withdrawn(uow, command)

    async def withdrawn(self, uow: UnitOfWork, command: c.WithdrawConsent) -> list[store.Standing]:
        """`withdraw`, returning where the person stands afterwards on each purpose it named
        (the HTTP API answers from it)."""
        w = command.data
        domain.require_actor_is_subject(w.actor, w.advocate_id)
        purposes = [w.purpose] if w.purpose else list(c.Purpose)
        withdrawn, standings = await store.withdraw(uow.conn, w.advocate_id, purposes, self.clock())
        await self.announcer.announce(uow, c.ConsentWithdrawn, withdrawn)
        return standings

    async def publish_policy(self, uow: UnitOfWork, command: c.PublishPolicy) -> None:
        p, now = command.data, self.clock()
        domain.require_newer_policy(p.version, await store.current_policy(uow.conn, p.purpose, for_update=True))
        content_hash = domain.content_hash(p.text)
        await store.add_policy(uow.conn, p.purpose, p.version, p.text, content_hash, p.requires_renewal, now)
        renewals = await store.request_renewal(uow.conn, p.purpose, now) if p.requires_renewal else []
        await ledger.append(uow.conn, [ledger.Entry(None, p.purpose.value, "policy_published", p.version,
                                                    content_hash, None, c.ChangedBy.CONTROLLER.value, now)],
                            uow.held)
        published = c.PolicyVersion(purpose=p.purpose, version=p.version, text=p.text, content_hash=content_hash,
                                    requires_renewal=p.requires_renewal, published_at=now)
        await uow.emit(self.topics.events, c.PolicyPublished, p.purpose.value, published)
        await uow.emit(self.topics.policies, c.PolicyCurrent, p.purpose.value, published)
        await self.announcer.announce(uow, c.ConsentRenewalRequested, renewals)

    async def erase(self, uow: UnitOfWork, command: c.EraseAdvocate, reason: str | None = None) -> None:
        """Data goes; the ledger keeps its pseudonymous proof and records the erasure itself.
        The erasure record beside it keeps who asked (by pseudonym) and the privacy office's
        `reason` (over HTTP; a Kafka command carries none). Done, announced and recorded
        whether or not this service knew the person: other services may hold their data."""
        advocate_id, actor, now = command.data.advocate_id, command.data.actor, self.clock()
        await directory.forget(uow, advocate_id, now)  # the person first: the order a give locks in
        await store.erase(uow.conn, advocate_id)
        by = c.ChangedBy.SUBJECT if actor == advocate_id else c.ChangedBy.CONTROLLER
        subject_ref = self.announcer.pseudonym(advocate_id)
        # Appended now, never deferred: the HTTP answer reads it back in this transaction.
        [entry_hash] = await ledger.append(uow.conn, [ledger.Entry(
            subject_ref, None, "erased", None, None, None, by.value, now)], uow.held)
        await store.record_erasure(uow.conn, store.ErasureRecord(
            entry_hash, subject_ref, self.announcer.pseudonym(actor), by, reason, now))
        await uow.emit(self.topics.events, c.AdvocateErased, advocate_id,
                       c.AdvocateErasure(advocate_id=advocate_id, erased_at=now))
        await uow.emit_tombstones(self.topics.state, [f"{advocate_id}:{p.value}" for p in c.Purpose])

    async def verify(self, uow: UnitOfWork, command: c.VerifyLedger) -> None:
        await self.verification(uow, command)

    async def verification(self, uow: UnitOfWork, command: c.VerifyLedger) -> c.LedgerVerification:
        """Recompute the chain, announce the result and return it."""
        return await self.announce_verification(uow, command, await ledger.verify(uow.conn))

    async def announce_verification(self, uow: UnitOfWork, command: c.VerifyLedger,
                                    result: ledger.Verification) -> c.LedgerVerification:
        """Announce a recomputation of the chain (`ledger.verified`) and return it."""
        verification = c.LedgerVerification(
            entries=result.entries, intact=result.intact, first_broken_seq=result.first_broken_seq,
            head_hash=result.head_hash, verified_at=self.clock())
        await uow.emit(self.topics.events, c.LedgerVerified, command.subject, verification)
        return verification

    async def leave(self, uow: UnitOfWork, event: d.PersonLeft) -> None:
        """Out of the projection, and the controller revokes every standing consent."""
        await directory.apply(uow, event)
        revoked = await store.revoke_all(uow.conn, event.data.advocate_id, self.clock())
        await self.announcer.announce(uow, c.ConsentRevoked, revoked)

    async def expire_due(self, uow: UnitOfWork, now: datetime) -> int:
        """The expiry schedule's job: due consents, each once (SKIP LOCKED, one transaction)."""
        expired = await store.expire_due(uow.conn, now, self.settings.consent_expiry_batch_size)
        await self.announcer.announce(uow, c.ConsentExpired, expired)
        return len(expired)

