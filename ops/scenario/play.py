"""Plays the scenario against the running platform through its public interfaces only, and
waits for each step's effects before the next.

People sign in at the identity provider and act over the services' HTTP APIs (front_door.py):
advocates answer consent, read their feed and share; editors draft and submit; an approver
approves and publishes; an analyst reads the report; the privacy office publishes the policy
texts. Systems use Kafka as systems do: HR publishes the directory, a connector posts
scheduled shares and reports engagement; visitors click through the real redirect. The
database is only read from, to follow the services' progress as an operator would.
"""

import asyncio
import random
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx

from deploy.local.config import HOST, StackConfig
from deploy.local.keycloak import Imported, Realm
from ops.bus import Tail, publish
from ops.scenario import clicks, commands, connector, policies
from ops.scenario.cast import STAFF, Cast, cast
from ops.scenario.front_door import ALREADY_APPLIED, FrontDoor, Refused
from ops.scenario.progress import Progress, step
from ops.scenario.signin import Accounts
from schemas import consent, curation, directory, distribution, engagement
from schemas.consent import Purpose
from schemas.platform import load_platform

T = TypeVar("T")
PEOPLE_AT_ONCE = 8  # people acting at the same time, each one request after another
HTTP_TIMEOUT = httpx.Timeout(30.0)


@dataclass(frozen=True)
class Endpoints:
    """Where the platform answers: Kafka, Postgres (read only), Keycloak, each service's HTTP
    base URL; `reports_dir`: where the analyst's HTML report is saved (None: not saved)."""

    kafka_bootstrap: str
    admin_dsn: str
    keycloak_url: str
    services: dict[str, str]
    reports_dir: Path | None = None

    @classmethod
    def of(cls, config: StackConfig) -> "Endpoints":
        return cls(config.kafka_bootstrap, config.admin_dsn, config.keycloak_url,
                   {name: f"http://{HOST}:{config.http_ports[name]}" for name in load_platform().services},
                   config.state_dir / "reports")


@dataclass(frozen=True)
class Rejection:
    """Something the platform refused, as the scenario saw it."""

    attempt: str  # what was tried, and by whom
    reason: str  # the machine-readable reason (a Kafka rejection event's, or a problem document's)
    status: int | None = None  # the HTTP status, when refused over HTTP
    detail: str = ""  # the problem document's words for people

    def __str__(self) -> str:
        answer = f"{self.status} {self.reason}" if self.status else self.reason
        return f"{self.attempt}: {answer}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Outcome:
    tag: str
    password: str = ""  # this run's people's, at the local realm (username: their advocate id)
    audience: dict[str, str] = field(default_factory=dict)  # item id -> feeds it reached ("< k" below k)
    shares: list[dict] = field(default_factory=list)  # the API's answers, each with the sharer's advocate_id
    clicks: int = 0
    human_clicks: int = 0
    click_log: list[tuple[str, str, int]] = field(default_factory=list)  # (tracked url, user agent, status)
    rejections: list[Rejection] = field(default_factory=list)
    report: dict = field(default_factory=dict)  # the analyst's campaign report (JSON)
    report_query: str = ""  # GET <metrics>/api/reports?… that gave it
    report_html: Path | None = None
    impact: tuple[str, dict] | None = None  # (advocate id, their "my impact" JSON)
    reported: list = field(default_factory=list)  # what the connector reported (engagement)
    sign_ins: int = 0
    commands: int = 0  # over HTTP
    seconds: float = 0.0


async def play(where: Endpoints, size: int = 1000, seed: int | None = None) -> Outcome:
    seed = secrets.randbits(32) if seed is None else seed
    people = cast(size, seed, f"{seed:08x}"[-6:])
    started = time.monotonic()
    tail = await Tail(where.kafka_bootstrap, consent.EVENTS_TOPIC, curation.EVENTS_TOPIC,
                      distribution.EVENTS_TOPIC, distribution.POSTS_TOPIC, distribution.ITEMS_TOPIC).start()
    admin = await asyncpg.connect(where.admin_dsn)
    limits = httpx.Limits(max_connections=4 * PEOPLE_AT_ONCE, max_keepalive_connections=4 * PEOPLE_AT_ONCE)
    http = httpx.AsyncClient(timeout=HTTP_TIMEOUT, limits=limits)
    accounts = Accounts(Realm(where.keycloak_url), http)
    run = Scenario(where, people, random.Random(seed), tail, admin, FrontDoor(http, accounts, where.services))
    run.outcome.password = accounts.password
    try:
        await run.directory()
        versions = await run.consent()
        await run.managers_attempts(versions)
        await publish(where.kafka_bootstrap, engagement.TOPIC, connector.followers(people.people, run.rng))
        await run.curation()
        await run.shares()
        await run.clicks_and_engagement()
        await run.report()
    finally:
        accounts.close()
        await http.aclose()
        await admin.close()
        await tail.stop()
    run.outcome.sign_ins = accounts.sign_ins
    run.outcome.seconds = time.monotonic() - started
    return run.outcome


class Scenario:
    def __init__(self, where: Endpoints, people: Cast, rng: random.Random, tail: Tail, admin: asyncpg.Connection,
                 door: FrontDoor) -> None:
        self.where, self.people, self.rng, self.tail, self.admin, self.door = where, people, rng, tail, admin, door
        self.outcome = Outcome(people.tag)
        self.contents = commands.items(people)  # made again when drafted: one is to publish seconds after that
        self.staff = {name: people.staff(name) for name in STAFF}
        self.accounts: asyncio.Task[Imported] | None = None  # the accounts being made (directory)

    @property
    def pattern(self) -> str:
        return f"adv-{self.people.tag}-%"

    async def command(self, who: str, method: str, service: str, path: str, body: dict | None = None) -> Any:
        """The answer of a command sent by `who` (ALREADY_APPLIED: see front_door.py)."""
        self.outcome.commands += 1
        return await self.door.command(who, method, service, path, body)

    async def directory(self) -> None:
        """HR publishes the directory; meanwhile the accounts of those who will sign in are
        made at the identity provider, a batch at a time, and each batch starts signing in."""
        size = len(self.people.people)
        step(f"Directory: {size} people join (HR and CRM), run {self.people.tag}")
        staff = [(self.staff[name], roles) for name, roles in STAFF.items()]
        self.accounts = self.door.accounts.create([*staff, *((p.advocate_id, ("advocate",))
                                                             for p in self.people.answering())])
        await publish(self.where.kafka_bootstrap, directory.TOPIC, [commands.joined(p) for p in self.people.people])
        for schema in ("consent", "distribution"):
            await self.until(f"SELECT count(*) FROM {schema}.people WHERE advocate_id LIKE $1", self.pattern,
                             size, f"{schema} knows them")

    async def consent(self) -> dict[Purpose, int]:
        step("Consent: each person signs in and decides for themself")
        versions, published = await policies.over_http(self.door, self.staff["pia"])
        if published:
            print(f"  policy texts published by the privacy office ({self.staff['pia']}, over HTTP): "
                  f"{', '.join(p.value for p in published)}")

        async def decide(who: str) -> None:
            answers = self.people.answers[who]
            for verb, purposes in (("give", answers.gives), ("refuse", answers.refuses)):
                for purpose in sorted(purposes):
                    await self.command(who, "POST", "consent", f"/api/me/consents/{purpose.value}/{verb}",
                                       commands.choice_body(purpose, versions))
            for purpose in sorted(answers.withdraws):  # a change of mind, later
                await self.command(who, "POST", "consent", f"/api/me/consents/{purpose.value}/withdraw")

        await each([p.advocate_id for p in self.people.answering()], decide, Progress("people answered"))
        assert self.accounts is not None, "made in the directory step"
        made = await self.accounts
        staff = ", ".join(f"{name} ({'+'.join(roles)})" for name, roles in STAFF.items())
        print(f"  {made.added + made.overwritten} accounts at the identity provider, made in bulk, for the people "
              f"who answered and the staff: {staff}; {self.door.accounts.sign_ins} signed in")
        # Distribution learns consent from events, on another topic than the items: wait until
        # it knows every answer, or a publication could overtake someone's "yes".
        answered = sum(1 for a in self.people.answers.values() if Purpose.RECEIVE_CONTENT in a.gives | a.refuses)
        await self.until("""SELECT CASE WHEN count(*) = $2 THEN count(*) FILTER (WHERE valid) ELSE -1 END
                            FROM distribution.consents WHERE purpose = 'receive_content' AND advocate_id LIKE $1""",
                         (self.pattern, answered), len(self.people.holding(Purpose.RECEIVE_CONTENT)),
                         "distribution knows it")
        return versions

    async def managers_attempts(self, versions: dict[Purpose, int]) -> None:
        """Max, a manager, tries to opt one of their people in: the old way, a "yes" written
        onto Kafka in the person's name; then at the consent API, which has no path naming
        another person's consent, so the nearest is the privacy office's erasure."""
        manager, person = self.staff["max"], self.people.people[0]
        give = commands.give_for_someone(manager, person, versions[Purpose.RECEIVE_CONTENT])
        await publish(self.where.kafka_bootstrap, consent.COMMANDS_TOPIC, [give])
        refused = await self.tail.wait_for_match("advocacy.consent.command.rejected.v1",
                                                 lambda e: e["data"]["command_id"] == give.id)
        self.rejected(Rejection(f"a manager's give for {person.advocate_id}, on Kafka", refused["data"]["reason"]))
        path = f"/api/people/{person.advocate_id}/erasure"
        try:
            await self.command(manager, "POST", "consent", path, {"reason": "asked by the manager"})
        except Refused as refusal:
            self.rejected(Rejection(f"the manager, signed in, at POST {path}", refusal.reason, refusal.status,
                                    refusal.detail))
        else:
            raise AssertionError(f"the consent service let a manager erase {person.advocate_id}")

    async def curation(self) -> None:
        ada, ben = self.staff["ada"], self.staff["ben"]
        step("Curation: Ada drafts a campaign of three items, Ben approves them (over HTTP)")
        self.contents = commands.items(self.people)
        campaign_id = f"campaign-{self.people.tag}"
        await self.command(ada, "POST", "curation", "/api/campaigns",
                           {"campaign_id": campaign_id, **commands.campaign_body(self.people, ada)})
        versions = {}
        for item_id, content in self.contents.items():
            await self.command(ada, "POST", "curation", "/api/items", commands.item_body(item_id, content))
            versions[item_id] = (await self.on_item(ada, item_id, "submit"))["version"]
        first = next(iter(self.contents))
        try:
            await self.command(ada, "POST", "curation", f"/api/items/{first}/approve", {"version": versions[first]})
        except Refused as refusal:
            self.rejected(Rejection(f"Ada approving her own {first}", refusal.reason, refusal.status))
        else:
            raise AssertionError(f"curation let the author approve {first}")
        for item_id, version in versions.items():
            await self.on_item(ben, item_id, "approve", {"version": version})
            released = await self.on_item(ben, item_id, "publish")
            scheduled = released["status"] == "scheduled"
            at = datetime.fromisoformat(released["content"]["publish_at"]).astimezone(UTC) if scheduled else None
            print(f"  {item_id}: {released['status']}" + (f" for {at:%H:%M:%S} UTC" if at else ""))
        await self.tail.wait_for("advocacy.distribution.item.distributed.v2", len(self.contents),
                                 on_progress=Progress("published and distributed"))
        self.outcome.audience = {e["subject"]: _told(e["data"])
                                 for e in self.tail.of("advocacy.distribution.item.distributed.v2")}
        for item_id, size in self.outcome.audience.items():
            print(f"  {item_id}: in {size} feeds")

    async def shares(self) -> None:
        step("Shares: advocates read their feed, some share, a few schedule a post")
        feeds: dict[str, list[str]] = {}

        async def read_feed(who: str) -> None:
            feeds[who] = await self.feed_of(who)

        await each([p.advocate_id for p in self.people.holding(Purpose.RECEIVE_CONTENT)], read_feed,
                   Progress("feeds read"))
        plan = commands.share_plan(self.people, {who: items for who, items in feeds.items() if items}, self.rng)
        made: list[dict] = []

        async def share(planned: commands.PlannedShare) -> None:
            body = planned.body(datetime.now(UTC))
            answer = await self.command(planned.advocate_id, "POST", "distribution", "/api/me/shares", body)
            if answer is ALREADY_APPLIED:  # a retry after a lost answer: the share is there, once
                answer = await self.share_made(planned)
            made.append({**answer, "advocate_id": planned.advocate_id})

        await each(plan, share, Progress("shares made"))
        self.outcome.shares = sorted(made, key=lambda s: s["share_id"])
        networks = sorted({s["network"] for s in made})
        print(f"  {len(made)} shares on {', '.join(networks)}; "
              f"{sum(1 for p in plan if p.scheduled)} scheduled for a connector to post")

    async def clicks_and_engagement(self) -> None:
        step("Clicks through the tracked links (the real redirect)")
        stop = asyncio.Event()
        posting = asyncio.create_task(connector.post_when_asked(self.where.kafka_bootstrap, self.tail, stop))
        try:
            planned = clicks.plan([s["tracked_url"] for s in self.outcome.shares], self.rng)
            statuses = await asyncio.to_thread(clicks.click_all, planned, Progress("clicks"))
            self.outcome.click_log = [(url, agent, status)
                                      for (url, _, agent), status in zip(planned, statuses, strict=True)]
            self.outcome.clicks = sum(1 for s in statuses if s == 302)
            self.outcome.human_clicks = sum(1 for _, agent, s in self.outcome.click_log
                                            if s == 302 and agent not in clicks.BOTS)
            await self.tail.wait_for("advocacy.distribution.link.clicked.v1", self.outcome.clicks,
                                     on_progress=Progress("clicks counted"))

            step("Engagement: the connector posts the scheduled shares and reports what posts achieved")
            scheduled = sum(1 for s in self.outcome.shares if s["scheduled_at"])
            await self.tail.wait_for("advocacy.distribution.share.publish.requested.v1", scheduled,
                                     on_progress=Progress("scheduled posts handed over"))
        finally:
            stop.set()
            await posting
        self.outcome.reported = connector.observe([(s["share_id"], s["network"]) for s in self.outcome.shares],
                                                  self.rng)
        await publish(self.where.kafka_bootstrap, engagement.TOPIC, self.outcome.reported)
        share_ids = [s["share_id"] for s in self.outcome.shares]
        await self.until("SELECT count(*) FROM metrics.engagement WHERE share_id = ANY($1)", share_ids,
                         len(share_ids), "counters kept (the highest of each)")
        await self.until("SELECT coalesce(sum(clicks + machine_requests), 0) FROM metrics.clicks "
                         "WHERE share_id = ANY($1)", share_ids,  # a person's clicks and machines' requests
                         self.outcome.clicks, "clicks counted by metrics")

    async def report(self) -> None:
        """Cleo, an analyst, reads the campaign's report (JSON, and the HTML page to keep);
        the sharer with the most shares among those who let them be counted as theirs
        reads their own impact."""
        step("The report, read over HTTP by Cleo (analyst)")
        today = datetime.now(UTC).date()
        period = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
        query = {**period, "campaign_id": f"campaign-{self.people.tag}"}
        cleo = self.staff["cleo"]
        self.outcome.report = await self.door.query(cleo, "metrics", "/api/reports", **query, format="json")
        self.outcome.report_query = "/api/reports?" + "&".join(f"{k}={v}" for k, v in query.items())
        if self.where.reports_dir is not None:
            page = await self.door.text(cleo, "metrics", "/api/reports", **query, format="html")
            self.outcome.report_html = await asyncio.to_thread(
                _save, self.where.reports_dir / f"campaign-{self.people.tag}.html", page)
        counted = {p.advocate_id for p in self.people.holding(Purpose.SHARE_ATTRIBUTION)}
        sharers = [s["advocate_id"] for s in self.outcome.shares if s["advocate_id"] in counted]
        if sharers:
            who = max(sorted(set(sharers)), key=sharers.count)
            self.outcome.impact = (who, await self.door.query(who, "metrics", "/api/me/impact", **period,
                                                              format="json"))

    # --- helpers ------------------------------------------------------------------------------

    def rejected(self, rejection: Rejection) -> None:
        self.outcome.rejections.append(rejection)
        print(f"  rejected: {rejection}")

    async def on_item(self, who: str, item_id: str, action: str, body: dict | None = None) -> dict:
        """POST /api/items/{item_id}/{action}: the item as it left it."""
        answer = await self.command(who, "POST", "curation", f"/api/items/{item_id}/{action}", body)
        if answer is ALREADY_APPLIED:  # a retry after a lost answer: read what the first try left
            answer = await self.door.query(who, "curation", f"/api/items/{item_id}")
        return answer

    async def feed_of(self, who: str) -> list[str]:
        """This run's items in `who`'s feed. The feed is newest first, and this run's items
        reached it after anything older (earlier runs' items still active), so it is read
        page by page only until an older item shows: usually one page of three."""
        wanted, found, cursor = set(self.contents), [], None
        while True:
            page = await self.door.query(who, "distribution", "/api/me/feed", limit=len(wanted),
                                         **({"cursor": cursor} if cursor else {}))
            ours = [entry["item_id"] for entry in page["items"] if entry["item_id"] in wanted]
            found += ours
            cursor = page["next_cursor"]
            if cursor is None or len(ours) < len(page["items"]) or len(found) == len(wanted):
                return found

    async def share_made(self, planned: commands.PlannedShare) -> dict:
        page = await self.door.query(planned.advocate_id, "distribution", "/api/me/shares", limit=200)
        return next(s for s in page["items"] if (s["item_id"], s["network"]) == (planned.item_id, planned.network))

    async def until(self, sql: str, args: object, expected: int, label: str) -> None:
        """Until `sql` (with `args`: one value or a tuple) counts exactly `expected`; 120 s at most."""
        bar = Progress(label)
        values = args if isinstance(args, tuple) else (args,)
        deadline = asyncio.get_running_loop().time() + 120
        while (n := await self.admin.fetchval(sql, *values)) != expected:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{label}: {n} of {expected} after 120 s")
            bar(n, expected)
            await asyncio.sleep(0.3)
        bar(n, expected)


async def each(things: Iterable[T], act: Callable[[T], Awaitable[None]], progress: Progress,
               at_once: int = PEOPLE_AT_ONCE) -> None:
    """`act` on every thing, `at_once` at a time; the first failure stops the rest and is raised."""
    queue = deque(things)
    done = 0

    async def worker() -> None:
        nonlocal done
        while queue:
            await act(queue.popleft())
            done += 1
            progress(done, total)

    total = len(queue)
    progress(0, total)
    async with asyncio.TaskGroup() as group:
        for _ in range(min(at_once, total)):
            group.create_task(worker())


def _save(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path.resolve()


def _told(audience: dict) -> str:
    """An audience's size as partners read it: the number, or "< k" (ADR 0018)."""
    return f"< {audience['k']}" if audience["audience_below_k"] else str(audience["audience_size"])
