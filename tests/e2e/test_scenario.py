"""A smaller scenario with the four services as separate processes: the final figures are
exactly what the cast's choices imply, computed here independently of the services."""

import random

import asyncpg

from ops.scenario import commands
from ops.scenario.cast import Cast, cast
from ops.scenario.play import play
from schemas.consent import Purpose
from tests.e2e.audience import reaches

SIZE = 80


def expected_feeds(people: Cast) -> dict[str, set[str]]:
    return {item_id: {p.advocate_id for p in people.people
                      if reaches(p, content, people.answers[p.advocate_id].holds(Purpose.RECEIVE_CONTENT))}
            for item_id, content in commands.items(people).items()}


async def test_the_scenario_ends_with_exactly_the_figures_the_choices_imply(stack, running_services):
    seed = random.randrange(2**32)
    outcome = await play(stack.kafka_bootstrap, stack.admin_dsn, SIZE, seed)
    people = cast(SIZE, seed, outcome.tag)
    pattern = f"adv-{outcome.tag}-%"
    admin = await asyncpg.connect(stack.admin_dsn)
    try:
        for purpose in Purpose:
            valid = {r["advocate_id"] for r in await admin.fetch(
                "SELECT advocate_id FROM consent.consents WHERE purpose = $1 AND status IN ('given', 'renewed_given')"
                " AND advocate_id LIKE $2", purpose.value, pattern)}
            assert valid == {p.advocate_id for p in people.holding(purpose)}, purpose
        refused = await admin.fetchval("SELECT count(*) FROM consent.consents WHERE status = 'refused' "
                                       "AND advocate_id LIKE $1", pattern)
        assert refused == sum(len(a.refuses) for a in people.answers.values())

        feeds = expected_feeds(people)  # among this run's people; earlier runs' people may be in the directory too
        for item_id, audience in feeds.items():
            feed = {r["advocate_id"] for r in await admin.fetch(
                "SELECT advocate_id FROM distribution.feed WHERE item_id = $1 AND advocate_id LIKE $2",
                item_id, pattern)}
            assert feed == audience, item_id
            assert outcome.audience[item_id] >= len(audience) > 0

        shares = await admin.fetch("SELECT share_id, advocate_id, item_id FROM distribution.shares "
                                   "WHERE advocate_id LIKE $1", pattern)
        assert len(shares) == len(outcome.shares) > 0
        assert all(s["advocate_id"] in feeds[s["item_id"]] for s in shares)  # nobody shares what they did not get
        totals = outcome.report["totals"]  # the metrics service's campaign report
        highest = {}
        for report in outcome.reported:  # repeats and late lower readings: the highest of each counter counts
            d = report.data
            old = highest.get(d.share_id, (0, 0, 0, 0))
            highest[d.share_id] = tuple(max(a, b) for a, b in zip(old, (d.impressions, d.reactions, d.comments, d.reshares)))
        assert (totals["shares"], totals["clicks"]) == (len(outcome.shares), outcome.human_clicks)
        assert [totals[k] for k in ("impressions", "reactions", "comments", "reshares")] == [
            sum(h[i] for h in highest.values()) for i in range(4)]
        assert outcome.rejections == [
            f"a manager opting {people.people[0].advocate_id} in: actor_not_subject",
            f"the author approving {next(iter(feeds))}: four_eyes_violation"]
    finally:
        await admin.close()
