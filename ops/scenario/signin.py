"""The cast's accounts at the identity provider, and signing people in.

The scenario's people sign in as people do, at the realm's token endpoint; the services
learn who acts from the token alone (`sub` = advocate id, realm roles). The password
grant (RFC 6749 §4.3) stands in for the login page: a simulation's shortcut that the
local realm allows only for its `advocacy-scenario` client (deploy/keycloak/README.md).

    accounts = Accounts(realm, http)
    created = accounts.create(people)              # in bulk, one request per few hundred, in the background
    token = await accounts.token("adv-1a2b3c-0007")  # once their account exists
    await created                                  # how many were made

Each person signs in once and keeps the token (the realm's live 10 minutes; one that
expired is renewed by signing in again): when they first act, or ahead of it (`ahead`,
while the platform is busy with something else). At most `at_once` sign-ins run together,
so a thousand people do not queue a thousand password checks on the server. Only an access
token is asked for (no `openid` scope, so no ID token): the APIs need nothing else.
"""

import asyncio
import secrets
from collections.abc import Iterable

import httpx

from deploy.local.keycloak import Imported, Person, Realm, create_users, password_token

SIGN_INS_AT_ONCE = 4  # Keycloak shares two cores with Kafka, Postgres and the services
BATCH = 200  # people per partial import: the first can sign in while the next are imported


class Accounts:
    """Accounts of one run: every person's username is their advocate id, and they share
    one password made for the run (local realm only: `password` shows it at the end)."""

    def __init__(self, realm: Realm, http: httpx.AsyncClient, at_once: int = SIGN_INS_AT_ONCE) -> None:
        self.realm = realm
        self.http = http
        self.password = secrets.token_urlsafe(12)
        self.sign_ins = 0
        self._tokens: dict[str, asyncio.Task[str]] = {}
        self._imported: dict[str, asyncio.Future[None]] = {}  # by person: done once their account exists
        self._polite = asyncio.Semaphore(at_once)
        self._creating: list[asyncio.Task[Imported]] = []

    def create(self, people: Iterable[tuple[str, tuple[str, ...]]], batch: int = BATCH) -> "asyncio.Task[Imported]":
        """Create (advocate id, realm roles) people in bulk, in the background, `batch` at a
        time, in this order; those of a batch begin signing in as soon as it is imported.
        Somebody of an earlier run with the same seed is replaced, taking this run's
        password. Returns the task; its result: how many were added and overwritten."""
        made = [Person(advocate_id, advocate_id, self.password, roles) for advocate_id, roles in people]
        batches = [made[start:start + batch] for start in range(0, len(made), batch)]
        imported = [asyncio.get_running_loop().create_future() for _ in batches]
        for chunk, done in zip(batches, imported, strict=True):
            self._imported |= dict.fromkeys((p.advocate_id for p in chunk), done)

        async def import_all() -> Imported:
            totals = Imported(0, 0, 0)
            for n, (chunk, done) in enumerate(zip(batches, imported, strict=True)):
                try:
                    # A client of its own: an import takes seconds, more than a sign-in may wait.
                    got = await create_users(self.realm, chunk, if_exists="OVERWRITE", batch=batch)
                except Exception as failed:
                    for later in imported[n:]:  # whoever waits for these learns why
                        later.set_exception(failed)
                        later.exception()  # retrieved here: one traceback, the task's, is enough
                    raise
                totals = Imported(*(a + b for a, b in zip(totals, got, strict=True)))
                done.set_result(None)
                self.ahead(p.advocate_id for p in chunk)
            return totals

        self._creating.append(task := asyncio.create_task(import_all()))
        return task

    def ahead(self, advocate_ids: Iterable[str]) -> None:
        """Sign these people in now, in the background, in this order (politely)."""
        for advocate_id in advocate_ids:
            if advocate_id not in self._tokens:
                self._tokens[advocate_id] = asyncio.create_task(self._sign_in(advocate_id))

    async def token(self, advocate_id: str, renew: bool = False) -> str:
        """The person's access token, signing them in first if they have none (or `renew`),
        once their account exists. KeycloakError if the realm refuses them or their account
        could not be made."""
        if (imported := self._imported.get(advocate_id)) is not None:
            await imported
        if renew or advocate_id not in self._tokens:
            self._tokens[advocate_id] = asyncio.create_task(self._sign_in(advocate_id))
        return await self._tokens[advocate_id]

    def close(self) -> None:
        """Stop creating accounts and signing in those not signed in yet."""
        for task in [*self._tokens.values(), *self._creating]:
            task.cancel()

    async def _sign_in(self, advocate_id: str) -> str:
        async with self._polite:
            answer = await password_token(self.realm, advocate_id, self.password, http=self.http, scope=None)
        self.sign_ins += 1
        return str(answer["access_token"])
