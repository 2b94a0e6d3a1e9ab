"""Plays the scenario against the running platform, only through its public interfaces
(Kafka topics and the redirect), and waits for each step's effects before the next."""

import asyncio
import json
import random
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from ops.bus import Tail, publish
from ops.scenario import clicks, commands, connector
from ops.scenario.cast import Cast, cast
from ops.scenario.progress import Progress, step
from schemas import consent, curation, directory, distribution, engagement, metrics
from schemas.consent import Purpose


@dataclass
class Outcome:
    tag: str
    audience: dict[str, int] = field(default_factory=dict)
    shares: list[dict] = field(default_factory=list)
    clicks: int = 0
    rejections: list[str] = field(default_factory=list)
    report: dict = field(default_factory=dict)
    human_clicks: int = 0
    reported: list = field(default_factory=list)  # what the connector reported (engagement)


async def play(bootstrap: str, admin_dsn: str, size: int = 1000, seed: int | None = None) -> Outcome:
    """`admin_dsn` is only read from, to follow the services' progress as an operator would."""
    seed = secrets.randbits(32) if seed is None else seed
    tag = f"{seed:08x}"[-6:]
    people, rng = cast(size, seed, tag), random.Random(seed)
    tail = await Tail(bootstrap, consent.EVENTS_TOPIC, curation.EVENTS_TOPIC, distribution.EVENTS_TOPIC,
                      metrics.EVENTS_TOPIC).start()
    admin = await asyncpg.connect(admin_dsn)
    outcome = Outcome(tag)
    try:
        step(f"Directory: {size} people join (HR and CRM), run {tag}")
        await publish(bootstrap, directory.TOPIC, [commands.joined(p) for p in people.people])
        for schema in ("consent", "distribution"):
            await _until(admin, f"SELECT count(*) FROM {schema}.people WHERE advocate_id LIKE $1", f"adv-{tag}-%",
                         size, f"{schema} knows them")

        step("Consent: each person decides for themself")
        versions = await _policies(admin, bootstrap, tail)
        choices = commands.choices(people, versions)
        await publish(bootstrap, consent.COMMANDS_TOPIC, choices)
        await tail.wait_for_all(_consent_types(choices), on_progress=Progress("consent recorded"))
        # Distribution learns consent from events, on another topic than the items: wait until
        # it knows every answer, or a publication could overtake someone's "yes".
        answered = sum(1 for a in people.answers.values() if Purpose.RECEIVE_CONTENT in a.gives | a.refuses)
        await _until(admin, """SELECT CASE WHEN count(*) = $2 THEN count(*) FILTER (WHERE valid) ELSE -1 END
                               FROM distribution.consents WHERE purpose = 'receive_content' AND advocate_id LIKE $1""",
                     (f"adv-{tag}-%", answered), len(people.holding(Purpose.RECEIVE_CONTENT)), "distribution knows it")
        await publish(bootstrap, consent.COMMANDS_TOPIC, [commands.manager_opts_in(people.people[0], versions)])
        [refused] = await tail.wait_for("advocacy.consent.command.rejected.v1", 1)
        outcome.rejections.append(f"a manager opting {people.people[0].advocate_id} in: {refused['data']['reason']}")
        print(f"  rejected: {outcome.rejections[-1]}")

        await publish(bootstrap, engagement.TOPIC, connector.followers(people.people, rng))

        step("Curation: a campaign, drafted by one editor, approved by another")
        contents = commands.items(people)
        await publish(bootstrap, curation.COMMANDS_TOPIC, [commands.campaign(people)])
        await tail.wait_for("advocacy.curation.campaign.created.v1", 1)
        first = next(iter(contents))
        await publish(bootstrap, curation.COMMANDS_TOPIC, commands.item_steps(first, contents[first])[:2]
                      + [commands.self_approval(first)])
        [self_approved] = await tail.wait_for("advocacy.curation.command.rejected.v1", 1)
        outcome.rejections.append(f"the author approving {first}: {self_approved['data']['reason']}")
        print(f"  rejected: {outcome.rejections[-1]}")
        await publish(bootstrap, curation.COMMANDS_TOPIC, [
            c for item_id, content in contents.items() for c in commands.item_steps(item_id, content)
            if not (item_id == first and c.type in ("advocacy.curation.item.draft.v1", "advocacy.curation.item.submit.v1"))])
        await tail.wait_for("advocacy.curation.item.scheduled.v1", 1, on_progress=Progress("scheduled for later"))
        await tail.wait_for("advocacy.distribution.item.distributed.v1", len(contents),
                            on_progress=Progress("published and distributed"))
        outcome.audience = {e["subject"]: e["data"]["audience_size"]
                            for e in tail.of("advocacy.distribution.item.distributed.v1")}
        for item_id, size_ in outcome.audience.items():
            print(f"  {item_id}: in {size_} feeds")

        step("Shares: some advocates share, a few schedule a post")
        # This run's items only: an earlier run's items still active reached this run's people too.
        feed = await admin.fetch("SELECT advocate_id, item_id FROM distribution.feed WHERE advocate_id LIKE $1 "
                                 "AND item_id = ANY($2) ORDER BY 1, 2", f"adv-{tag}-%", list(contents))
        requests = commands.share_requests(people, [(r["advocate_id"], r["item_id"]) for r in feed], rng)
        await publish(bootstrap, distribution.COMMANDS_TOPIC, requests)
        outcome.shares = await tail.wait_for("advocacy.distribution.share.created.v1", len(requests),
                                             on_progress=Progress("shares created"))
        posting = asyncio.create_task(connector.post_when_asked(bootstrap, tail))
        scheduled = sum(1 for r in requests if r.data.scheduled_at)
        await tail.wait_for("advocacy.distribution.share.publish.requested.v1", scheduled,
                            on_progress=Progress("scheduled posts handed to connectors"))

        step("Clicks through the tracked links (the real redirect)")
        planned = clicks.plan([s["data"]["tracked_url"] for s in outcome.shares], rng)
        statuses = await asyncio.to_thread(clicks.click_all, planned, Progress("clicks"))
        outcome.clicks = sum(1 for s in statuses if s == 302)
        outcome.human_clicks = sum(1 for s, (_, _, agent) in zip(statuses, planned)
                                   if s == 302 and agent not in clicks.BOTS)
        await tail.wait_for("advocacy.distribution.link.clicked.v1", outcome.clicks, on_progress=Progress("clicks counted"))
        posting.cancel()

        step("Engagement: the connector reports what the posts achieved")
        outcome.reported = connector.observations(outcome.shares, rng)
        await publish(bootstrap, engagement.TOPIC, outcome.reported)
        share_ids = [s["subject"] for s in outcome.shares]
        await _until(admin, "SELECT count(*) FROM metrics.engagement WHERE share_id = ANY($1)", share_ids,
                     len(share_ids), "counters kept (the highest of each)")
        await _until(admin, "SELECT coalesce(sum(clicks), 0) FROM metrics.clicks WHERE share_id = ANY($1)", share_ids,
                     outcome.clicks, "clicks counted by metrics")

        step("The report")
        outcome.report = await _report(bootstrap, tail, people)
        return outcome
    finally:
        await admin.close()
        await tail.stop()


async def _until(admin: asyncpg.Connection, sql: str, args, expected: int, label: str) -> None:
    """Until `sql` (with `args`: one value or a tuple) counts exactly `expected`; 120 s at most."""
    bar = Progress(label)
    args = args if isinstance(args, tuple) else (args,)
    deadline = asyncio.get_running_loop().time() + 120
    while (n := await admin.fetchval(sql, *args)) != expected:
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{label}: {n} of {expected} after 120 s")
        bar(n, expected)
        await asyncio.sleep(0.3)
    bar(n, expected)


async def _report(bootstrap: str, tail: Tail, people: Cast) -> dict:
    """The campaign's report, rendered by the metrics service; returns its JSON."""
    today = datetime.now(UTC).date()
    report_id = f"report-{people.tag}"
    await publish(bootstrap, metrics.COMMANDS_TOPIC, [metrics.RenderReport(
        source="/newsroom", subject=report_id, data=metrics.ReportRequest(
            actor=commands.EDITOR, report_id=report_id, starts_on=today - timedelta(days=1), ends_on=today,
            campaign_id=f"campaign-{people.tag}"))])
    [rendered] = await tail.wait_for("advocacy.metrics.report.rendered.v1", 1, on_progress=Progress("rendered"))
    return {**json.loads(Path(rendered["data"]["json_path"]).read_text()),
            "html_path": str(Path(rendered["data"]["html_path"]).resolve())}


async def _policies(admin: asyncpg.Connection, bootstrap: str, tail: Tail) -> dict[Purpose, int]:
    """The current policy version of each purpose; version 1 published where there is none."""
    rows = await admin.fetch("SELECT purpose, current_version FROM consent.purposes")
    versions = {Purpose(r["purpose"]): r["current_version"] for r in rows if r["current_version"]}
    missing = [p for p in Purpose if p not in versions]
    if missing:
        await publish(bootstrap, consent.COMMANDS_TOPIC, [commands.policy(p, 1) for p in missing])
        await tail.wait_for("advocacy.consent.policy.published.v1", len(missing))
        versions |= dict.fromkeys(missing, 1)
        print(f"  policy texts published: {', '.join(p.value for p in missing)}")
    return versions


def _consent_types(choices: list) -> dict[str, int]:
    expected: dict[str, int] = {}
    for command in choices:
        answer = command.type.replace(".give.", ".given.").replace(".refuse.", ".refused.").replace(".withdraw.", ".withdrawn.")
        expected[answer] = expected.get(answer, 0) + 1
    return expected
