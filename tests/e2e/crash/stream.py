"""Plays a run's inputs into the platform, through its public interfaces only (Kafka topics,
the services' HTTP APIs signed in, and the redirect), phase by phase. Between phases it
waits until the services hold what the reference says: consent and items travel on
different paths with no order between them, so an item must not overtake someone's consent
(nor a share the followers it is sized by). Every publication is retried until
acknowledged, with the same event ids: consumers must absorb the copies. Every HTTP command
is retried until definitively answered, with the same Idempotency-Key (front_door.py)."""

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import date

from ops.bus import publish
from ops.scenario import commands, connector
from schemas import consent, curation, directory, engagement
from schemas.consent import Purpose
from tests.e2e.crash import clicks, flow, inputs, model, reconcile
from tests.e2e.crash.faults import Figures, Phases
from tests.e2e.crash.front_door import Answer, Command, FrontDoor
from tests.e2e.crash.observed import Observed
from tests.e2e.crash.reconcile import Run

CHUNK = 500


class Stream:
    def __init__(self, bootstrap: str, seen: Observed, run: Run, figures: Figures, phases: Phases,
                 front_door: FrontDoor, clicker: clicks.Clicker, seed: int, timeout: float) -> None:
        self.bootstrap, self.seen, self.run = bootstrap, seen, run
        self.figures, self.phases, self.front_door, self.clicker = figures, phases, front_door, clicker
        self.rng = random.Random(seed + 3)
        self.seed, self.timeout = seed, timeout

    async def send(self, topic: str, events: list) -> None:
        for start in range(0, len(events), CHUNK):
            chunk = events[start:start + CHUNK]
            while True:
                self.figures.inputs_tried += len(chunk)
                try:
                    await asyncio.wait_for(publish(self.bootstrap, topic, chunk), timeout=60)
                    break
                except Exception:  # broker away or restarting: send the same events again
                    await asyncio.sleep(1.0)
            self.figures.events_sent += len(chunk)

    async def command(self, sequences: list[list[Command]]) -> list[Answer]:
        """Over HTTP, each sequence in order (front_door.py); counted as inputs once answered."""
        answers = await self.front_door.send_in_order(sequences)
        self.figures.events_sent += len(answers)
        return answers

    async def until(self, check: Callable[[], Awaitable[list[str]]], what: str) -> None:
        """Until `check()` finds no difference; the last differences are the failure."""
        deadline = asyncio.get_running_loop().time() + self.timeout
        while differences := await check():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{what} not reached in {self.timeout:.0f}s: {differences}")
            await asyncio.sleep(0.5)

    async def play(self, pseudonym_key: bytes) -> None:
        p, seen, run = self.run.plan, self.seen, self.run
        self.phases.begin("directory")
        await self.send(directory.TOPIC, [commands.joined(person) for person in p.people])
        await self.until(lambda: reconcile.people(seen, run), "every service knows the people")

        self.phases.begin("consent")
        await self.command(inputs.consent_choices(p, await self._policies()))
        await self.until(lambda: reconcile.consents(seen, run, pseudonym_key), "every consent recorded and known")

        self.phases.begin("followers")
        run.followers = connector.followers(p.people, self.rng)
        await self.send(engagement.TOPIC, run.followers)
        await self.until(lambda: reconcile.followers(seen, run), "follower counts kept where allowed")

        self.phases.begin("items")
        await self.send(curation.COMMANDS_TOPIC, [commands.campaign(p)])
        await self.until(lambda: self._exists("curation.campaigns", "id", f"campaign-{p.tag}"), "campaign")
        await self.send(curation.COMMANDS_TOPIC, inputs.item_drafts(p))
        await self.until(self._all_in_review, "every item drafted and submitted")
        await self.command([[inputs.approval(item_id, await self._version(item_id))] for item_id in p.items])
        await self.send(curation.COMMANDS_TOPIC, inputs.publications(p))
        await self.until(lambda: reconcile.feeds(seen, run), "items published into exactly the right feeds")

        self.phases.begin("shares")
        inputs.draw_share_requests(p, model.feeds(p), self.seed)
        await self.command([[request] for request in inputs.share_requests(p, model.feeds(p))])
        await self.until(lambda: reconcile.shares(seen, run), "each share made once and counted")

        self.phases.begin("clicks and engagement")
        made = await seen.shares()
        planned = clicks.plan([(r["share_id"], r["code"]) for r in made], self.rng)
        clicking = asyncio.create_task(asyncio.to_thread(self.clicker.click_all, planned))
        run.engagement = connector.observations([{"subject": r["share_id"], "data": {"network": r["network"]}}
                                                 for r in made], self.rng)
        await self.send(engagement.TOPIC, run.engagement)
        run.clicks = await clicking
        self.figures.events_sent += len(planned)
        self.figures.inputs_tried += self.clicker.tries

    async def settle(self, pseudonym_key: bytes, click_keys: dict[date, bytes]) -> list[str]:
        """Once the state equals the reference, until nothing flows any more (a late copy
        would land now); then the differences that remain, to be asserted empty."""
        self.phases.begin("reconcile")
        sent = self.figures.at()
        await self.until(lambda: everything(self.seen, self.run, pseudonym_key, click_keys), "the final state")
        self.figures.seconds_to_reconcile = round(self.figures.at() - sent, 1)
        for _ in range(2):
            await self.until(lambda: flow.quiet(self.bootstrap, self.seen.dsn), "every consumer caught up")
        return await everything(self.seen, self.run, pseudonym_key, click_keys)

    async def _policies(self) -> dict[Purpose, int]:
        """The current policy version of each purpose; version 1 published where there is none."""
        async def current() -> dict[Purpose, int]:
            rows = await self.seen.rows("SELECT purpose, current_version FROM consent.purposes")
            return {Purpose(r["purpose"]): r["current_version"] for r in rows if r["current_version"]}

        async def all_published() -> list[str]:
            return [] if len(await current()) == len(Purpose) else ["a purpose without a policy text"]

        missing = [purpose for purpose in Purpose if purpose not in await current()]
        await self.send(consent.COMMANDS_TOPIC, [commands.policy(purpose, 1) for purpose in missing])
        await self.until(all_published, "policy texts")
        return await current()

    async def _all_in_review(self) -> list[str]:
        rows = await self.seen.rows("SELECT id FROM curation.items WHERE id = ANY($1) AND status = 'in_review'",
                                    list(self.run.plan.items))
        return [] if len(rows) == len(self.run.plan.items) else [f"{len(rows)} items in review"]

    async def _version(self, item_id: str) -> int:
        """The version in review, as the approver reads it before approving."""
        item = await self.front_door.get("curation", f"/api/items/{item_id}", commands.APPROVER, ("approver",))
        return int(item["version"])

    async def _exists(self, table: str, column: str, value: str) -> list[str]:
        [row] = await self.seen.rows(f"SELECT count(*) FROM {table} WHERE {column} = $1", value)
        return [] if row[0] else [f"{value} not in {table}"]


async def everything(seen: Observed, run: Run, pseudonym_key: bytes, click_keys: dict[date, bytes]) -> list[str]:
    return (await reconcile.people(seen, run) + await reconcile.consents(seen, run, pseudonym_key)
            + await reconcile.followers(seen, run) + await reconcile.feeds(seen, run)
            + await reconcile.shares(seen, run) + await reconcile.outcomes(seen, run, click_keys))
