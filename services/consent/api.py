"""The consent service's HTTP API, under /api/ (issue #15; ADR 0012).

- The signed-in person, on their own things only (`/me/...`): their consent to each
  purpose with the policy texts; give, refuse or withdraw one purpose; withdraw all; their
  receipt (JSON, or text with `?format=text`); erasing themself (`DELETE /me`). Signing in
  is all it takes: the directory decides who may consent, and reading, withdrawing and
  erasing are a person's rights whatever their roles.
- Anyone signed in: the current policy of each purpose.
- The role `privacy_officer`: publish a policy version, erase someone on their behalf with
  a recorded reason, verify the proof ledger.

A command is the CloudEvent Kafka would carry, its actor the signed-in person (never a
field of the body), handled by the same `ConsentHandlers` method in one transaction
(`db.command`) and answered with the state it leaves, as that transaction sees it. No path
names another person for a give, refusal or withdrawal, so nobody, whatever their role,
can answer for someone else; on Kafka these three are refused (`sign_in_required`).
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import PlainTextResponse
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from schemas import consent as c
from schemas.commands import Rejected
from schemas.consent import ChangedBy, CollectionMethod, Purpose, Reason, Sha256, Status
from schemas.directory import AdvocateId
from schemas.envelope import CloudEvent, Flag
from schemas.networks import shows_something
from services.consent import ledger, receipts, store
from services.consent.config import ConsentSettings
from services.consent.domain import Change
from services.consent.handlers import ConsentHandlers
from services.consent.holding import Holds
from services.consent.receipts import Receipt
from services.runtime.api import Db, HttpApi, Principal, SignedIn, database, problem_responses, requires_role
from services.runtime.api.fast import FastCall, FastRoute
from services.runtime.identity import Authenticator, OidcSettings
from services.runtime.unit_of_work import Connection, UnitOfWork

T = TypeVar("T")
C = TypeVar("C", bound=CloudEvent[Any])

# A policy text of 20,000 characters fits even when every one is sent as a six-byte \uXXXX escape.
MAX_BODY_BYTES = 128 * 1024
MAX_VERSION = 2**31 - 1  # the database's integer
MAX_REASON_CHARS = 500
# Text as Postgres can store it and people can read it: no NUL, no control characters
# but tab and line breaks (pydantic already refuses lone surrogates).
_READABLE = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"


# A text someone must read (a policy, an erasure's reason): not one of only invisible characters.
_SHOWN = AfterValidator(shows_something)

_ADVOCATE_ID = TypeAdapter(AdvocateId)
_ADVOCATE_ID_PATTERN = _ADVOCATE_ID.json_schema()["pattern"]

# Strict: the version a person was shown is a JSON integer; lax validation read true, "1"
# and 1.0 as version 1 (a record of consent must name what was shown, not a guess at it).
Version = Annotated[int, Strict(), Field(ge=1, le=MAX_VERSION)]

DESCRIPTION = """Consent to each purpose on its own, given, refused and withdrawn only by the person,
signed in with a bearer token of the platform's OpenID Connect issuer.

- `/me/...`: the signed-in person's own consent. Every purpose with the policy text they
  answered and the current one; give or refuse one purpose, naming the version shown;
  withdraw one purpose or all; the receipt (JSON, or text with `?format=text`); `DELETE /me`
  erases the person in every service. Signing in is all it takes.
- `/policies`: the current policy of each purpose, for anyone signed in.
- Role `privacy_officer`: publish a policy version, erase someone on their behalf with a
  recorded reason, verify the proof ledger.

No path names another person's consent, so nobody can answer for anyone else. A refused
command answers a problem document whose `reason` is the one the Kafka rejection event
(`advocacy.consent.command.rejected.v1`) carries."""


# --- what is answered ----------------------------------------------------------------------

class Policy(BaseModel):
    """One version of a purpose's policy: the text people are shown and answer."""

    purpose: Purpose
    version: int
    text: str
    content_hash: Sha256 = Field(description="SHA-256 of the UTF-8 text; receipts and the ledger name it")
    requires_renewal: bool = Field(description="Publishing it asked everyone with a valid consent to answer again")
    published_at: datetime

    @classmethod
    def of(cls, policy: store.PublishedPolicy | None) -> "Policy | None":
        return cls.published(policy) if policy else None

    @classmethod
    def published(cls, policy: store.PublishedPolicy) -> "Policy":
        # Field by field: dataclasses.asdict deep-copies, a tenth of a give's CPU with five purposes.
        return cls(purpose=policy.purpose, version=policy.version, text=policy.text,
                   content_hash=policy.content_hash, requires_renewal=policy.requires_renewal,
                   published_at=policy.published_at)


class Policies(BaseModel):
    policies: list[Policy] = Field(description="The current version of each purpose that has one, in a stable "
                                               "order; a purpose without one cannot be consented to yet")


class MyConsent(BaseModel):
    """Where the signed-in person stands on one purpose."""

    purpose: Purpose
    status: Status | None = Field(description="null: never answered (or erased)")
    valid: bool = Field(description="True only for given and renewed_given: only then may the purpose be served")
    since: datetime | None = Field(description="When the status began")
    until: datetime | None = Field(description="When a valid consent expires unless given again; null otherwise")
    changed_by: ChangedBy | None = Field(description="subject: the person; controller: expiry, leaving, renewal")
    collection_method: CollectionMethod | None
    renewal_requested: bool = Field(description="A new policy version asks the person to answer again")
    policy: Policy | None = Field(description="The version the person answered, with the text they were shown")
    current_policy: Policy | None = Field(description="The purpose's current version, to be shown for a new answer")

    @classmethod
    def of(cls, standing: store.Standing) -> "MyConsent":
        policies = {"policy": Policy.of(standing.seen), "current_policy": Policy.of(standing.current)}
        if (record := standing.record) is None:
            return cls(purpose=standing.purpose, status=None, valid=False, since=None, until=None, changed_by=None,
                       collection_method=None, renewal_requested=False, **policies)
        return cls(purpose=standing.purpose, status=record.status, valid=record.valid, since=record.changed_at,
                   until=record.expires_at, changed_by=record.changed_by, collection_method=record.collection_method,
                   renewal_requested=record.status is Status.RENEWAL_REQUESTED, **policies)


class MyConsents(BaseModel):
    consents: list[MyConsent] = Field(description="Each of the five purposes, in a stable order")

    @classmethod
    def of(cls, standings: list[store.Standing]) -> "MyConsents":
        return cls(consents=[MyConsent.of(s) for s in standings])


class Erasure(BaseModel):
    """An erasure done: every service purges the person when it reads `advocate.erased`."""

    advocate_id: AdvocateId
    erased_at: datetime
    erased_by: ChangedBy = Field(description="subject: the person asked; controller: the privacy office did")
    ledger_hash: Sha256 = Field(description="The proof ledger's entry recording the erasure")


# --- what is sent --------------------------------------------------------------------------

class ChoiceIn(BaseModel):
    """A yes or a no to one purpose, naming the policy version the person was shown."""

    model_config = ConfigDict(extra="forbid")

    policy_version: Version = Field(description="The version shown; it must be the purpose's current one")
    collection_method: CollectionMethod = Field(
        default=CollectionMethod.API, description="How the answer was collected (Kantara): the page says web_form "
                                                  "or mobile_app; api when it does not say")


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version = Field(description="Above the purpose's current version")
    text: Annotated[str, _SHOWN] = Field(min_length=1, max_length=20000, pattern=_READABLE)
    requires_renewal: Flag = Field(description="Everyone with a valid consent to the purpose must answer again")


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON_CHARS,
                                             pattern=_READABLE), _SHOWN] = Field(
        description="Why the privacy office erases the person (the request, e.g. its ticket): kept in the erasure "
                    "record beside the ledger, never logged; not a place for anyone's personal data")


# --- who asks ------------------------------------------------------------------------------

async def signed_in_advocate(principal: SignedIn) -> str:
    """The signed-in person's advocate id. 403 `not_in_directory` when it cannot be one: a
    token's subject may take forms the directory's ids (8–64 of [A-Za-z0-9_-]) never do."""
    try:
        return _ADVOCATE_ID.validate_python(principal.advocate_id)
    except ValidationError:
        raise Rejected(Reason.NOT_IN_DIRECTORY, "consent is recorded only for people in the directory") from None


Me = Annotated[str, Depends(signed_in_advocate)]
PrivacyOfficer = Annotated[Principal, requires_role("privacy_officer")]
Format = Annotated[Literal["json", "text"], Query(
    alias="format", description="json (default), or text: the same receipt rendered for people, as text/plain")]
OtherPerson = Annotated[str, Path(pattern=_ADVOCATE_ID_PATTERN, description="The advocate id to erase")]


def handled_then(handle: Callable[[UnitOfWork, C], Awaitable[None]], command: C,
                 read: Callable[[Connection], Awaitable[T]]) -> Callable[[UnitOfWork], Awaitable[T]]:
    """For `db.command`: handle `command` as a Kafka subscriber would, then `read` the
    resulting state in the same transaction."""

    async def run(uow: UnitOfWork) -> T:
        await handle(uow, command)
        return await read(uow.conn)

    return run


def build_api(handlers: ConsentHandlers, settings: ConsentSettings, identity: OidcSettings) -> HttpApi:
    # Group commit: every change appends to the one proof ledger, whose lock is held until
    # commit, so commands would otherwise go one disk flush at a time.
    person, fast = person_routes(handlers)
    return HttpApi(settings, person, office_routes(handlers), authenticator=Authenticator(identity),
                   max_body_bytes=MAX_BODY_BYTES, description=DESCRIPTION, group_commit=1, fast_routes=fast)


def person_routes(handlers: ConsentHandlers) -> tuple[APIRouter, list[FastRoute]]:
    """The person's routes, and the three commands every person sends most (give, refuse,
    withdraw one purpose) as fast routes too: the same endpoints, called without FastAPI's
    machinery on their happy path (services/runtime/api/fast.py, ADR 0031)."""
    # 403 `not_in_directory`: a token whose subject cannot be an advocate id (signed_in_advocate).
    router = APIRouter(tags=["the signed-in person"], responses=problem_responses(403))
    source = f"{handlers.settings.source}/api"

    def choice(me: str, purpose: Purpose, body: ChoiceIn) -> c.Choice:
        return c.Choice(actor=me, advocate_id=me, purpose=purpose, policy_version=body.policy_version,
                        collection_method=body.collection_method)

    # Published policy versions by (purpose, version): a version's row is never changed, and
    # one is used only if its content hash is the one the choice read under its lock.
    versions: dict[tuple[Purpose, int], store.PublishedPolicy] = {}
    holds = Holds()  # gives and refusals held for people consent does not know yet

    async def policy_of(conn: Connection, change: Change) -> store.PublishedPolicy:
        assert change.policy_version is not None, "a choice names its version"
        key = (change.purpose, change.policy_version)
        if (known := versions.get(key)) is None or known.content_hash != change.policy_hash:
            known = await store.policy(conn, change.purpose, change.policy_version)
            assert known is not None and known.content_hash == change.policy_hash, "the version just chosen"
            versions[key] = known
        return known

    async def choose(handle: Callable[[UnitOfWork, C], Awaitable[Change]], command: C, db: Db) -> MyConsent:
        """Answered from the change the command made: a give or a refusal is of the purpose's
        current version, locked until commit, so the version answered is also the current
        one (one round trip fewer than reading the standing back)."""

        async def run(uow: UnitOfWork) -> MyConsent:
            change = await handle(uow, command)
            policy = await policy_of(uow.conn, change)
            return MyConsent.of(store.Standing(change.purpose, change, policy, policy))

        return await holds.until_known(db, command.data.advocate_id, run,
                                       handlers.settings.consent_directory_hold_seconds)

    @router.get("/me/consents")
    async def my_consents(me: Me, db: Db) -> MyConsents:
        """Every purpose: status, since and until when, the policy answered and the current one."""
        return MyConsents.of(await db.query(lambda conn: store.standings_of(conn, me)))

    @router.post("/me/consents/{purpose}/give", responses=problem_responses(403, 404, 409))
    async def give(purpose: Purpose, body: ChoiceIn, me: Me, db: Db) -> MyConsent:
        """Consent to one purpose under the version shown. 403 `not_in_directory` (after
        holding the request while consent may not have read the person's `person.joined`
        yet); 404 `unknown_policy_version`; 409 `outdated_policy_version` (show the current one)."""
        command = c.GiveConsent(source=source, subject=me, data=choice(me, purpose, body))
        return await choose(handlers.given, command, db)

    @router.post("/me/consents/{purpose}/refuse", responses=problem_responses(403, 404, 409))
    async def refuse(purpose: Purpose, body: ChoiceIn, me: Me, db: Db) -> MyConsent:
        """Say no to one purpose under the version shown; refusals as for giving."""
        return await choose(handlers.refused, c.RefuseConsent(source=source, subject=me,
                                                             data=choice(me, purpose, body)), db)

    @router.post("/me/consents/{purpose}/withdraw")
    async def withdraw(purpose: Purpose, me: Me, db: Db) -> MyConsent:
        """Withdraw one purpose, at once, no reason asked. What was not given stays as it is."""
        command = c.WithdrawConsent(source=source, subject=me,
                                    data=c.Withdrawal(actor=me, advocate_id=me, purpose=purpose))
        [mine] = await db.command(lambda uow: handlers.withdrawn(uow, command))
        return MyConsent.of(mine)

    @router.post("/me/consents/withdraw")
    async def withdraw_all(me: Me, db: Db) -> MyConsents:
        """Withdraw every purpose given; the others stay as they are."""
        command = c.WithdrawConsent(source=source, subject=me, data=c.Withdrawal(actor=me, advocate_id=me))
        return MyConsents.of(await db.command(lambda uow: handlers.withdrawn(uow, command)))

    @router.get("/me/receipt", response_model=Receipt, responses={200: {
        "content": {"text/plain": {"schema": {"type": "string"}}},
        "description": "The receipt: JSON, or with `?format=text` its rendering for people"}})
    async def my_receipt(me: Me, db: Db, output: Format = "json") -> Any:
        """The consent receipt (ISO/IEC TS 27560, Kantara): status, policy versions and
        hashes, and the history from the proof ledger with each entry's hash."""

        async def build(conn: Connection) -> Receipt:
            async with conn.transaction(isolation="repeatable_read", readonly=True):  # status and history agree
                return await receipts.build(conn, handlers.settings, me, handlers.clock())

        receipt = await db.query(build)
        return PlainTextResponse(receipts.render_text(receipt)) if output == "text" else receipt

    @router.delete("/me")
    async def erase_me(me: Me, db: Db) -> Erasure:
        """Erase me: the page asks for confirmation first. Everything about the person goes,
        in every service; the ledger keeps its pseudonymous proof."""
        command = c.EraseAdvocate(source=source, subject=me, data=c.Erasure(actor=me, advocate_id=me))
        return await db.command(handled_then(handlers.erase, command, lambda conn: erasure(handlers, conn, me)))

    async def me_of(call: FastCall) -> str:
        return await signed_in_advocate(call.principal)

    async def fast_give(call: FastCall) -> MyConsent:
        assert isinstance(call.body, ChoiceIn)
        return await give(call.params["purpose"], call.body, await me_of(call), call.db)

    async def fast_refuse(call: FastCall) -> MyConsent:
        assert isinstance(call.body, ChoiceIn)
        return await refuse(call.params["purpose"], call.body, await me_of(call), call.db)

    async def fast_withdraw(call: FastCall) -> MyConsent:
        return await withdraw(call.params["purpose"], await me_of(call), call.db)

    purpose, done_here = {"purpose": Purpose}, (signed_in_advocate, database)  # what `me_of` and `call.db` are
    return router, [FastRoute("/me/consents/{purpose}/give", fast_give, purpose, ChoiceIn, dependencies=done_here),
                    FastRoute("/me/consents/{purpose}/refuse", fast_refuse, purpose, ChoiceIn, dependencies=done_here),
                    FastRoute("/me/consents/{purpose}/withdraw", fast_withdraw, purpose, dependencies=done_here)]


def office_routes(handlers: ConsentHandlers) -> APIRouter:
    router = APIRouter(tags=["policies and the privacy office"])
    source = f"{handlers.settings.source}/api"

    @router.get("/policies")
    async def policies(_: SignedIn, db: Db) -> Policies:
        """The current policy of each purpose, for anyone signed in."""
        current = await db.query(store.current_policies)
        return Policies(policies=[Policy.published(policy) for policy in current])

    @router.post("/policies/{purpose}", status_code=201, responses=problem_responses(403, 409))
    async def publish_policy(purpose: Purpose, body: PolicyIn, officer: PrivacyOfficer, db: Db) -> Policy:
        """Publish a version of a purpose's policy. 409 `policy_version_not_newer`."""
        command = c.PublishPolicy(source=source, subject=purpose.value, data=c.PolicyText(
            actor=officer.advocate_id, purpose=purpose, version=body.version, text=body.text,
            requires_renewal=body.requires_renewal))

        async def published(conn: Connection) -> Policy:
            policy = Policy.of(await store.policy(conn, purpose, body.version))
            assert policy is not None, "published in this transaction"
            return policy

        return await db.command(handled_then(handlers.publish_policy, command, published))

    @router.post("/people/{advocate_id}/erasure", responses=problem_responses(403))
    async def erase_someone(advocate_id: OtherPerson, body: ErasureIn, officer: PrivacyOfficer, db: Db) -> Erasure:
        """Erase a person on their behalf, with the reason recorded. Answered alike whether
        or not this service knew them: the erasure reaches every service all the same."""
        command = c.EraseAdvocate(source=source, subject=advocate_id,
                                  data=c.Erasure(actor=officer.advocate_id, advocate_id=advocate_id))

        async def erase(uow: UnitOfWork) -> Erasure:
            await handlers.erase(uow, command, reason=body.reason)
            return await erasure(handlers, uow.conn, advocate_id)

        return await db.command(erase)

    @router.post("/ledger/verification", responses=problem_responses(403))
    async def verify_ledger(officer: PrivacyOfficer, db: Db) -> c.LedgerVerification:
        """Recompute the proof ledger's hash chain (also announced as `ledger.verified`)."""
        command = c.VerifyLedger(source=source, subject="ledger", data=c.LedgerCheck(actor=officer.advocate_id))

        async def recompute(conn: Connection) -> ledger.Verification:
            async with conn.transaction(isolation="repeatable_read", readonly=True):  # one snapshot of the chain
                return await ledger.verify(conn)

        # Minutes for a chain of millions of entries: read on a connection of its own, never in
        # the group commit's queue, where every give and withdrawal would wait behind it.
        result = await db.query(recompute)
        return await db.command(lambda uow: handlers.announce_verification(uow, command, result))

    return router


async def erasure(handlers: ConsentHandlers, conn: Connection, advocate_id: str) -> Erasure:
    record = await store.latest_erasure(conn, handlers.announcer.pseudonym(advocate_id))
    assert record is not None, "erased in this transaction"
    return Erasure(advocate_id=advocate_id, erased_at=record.erased_at, erased_by=record.changed_by,
                   ledger_hash=record.entry_hash)
