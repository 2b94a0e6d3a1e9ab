"""A smaller scenario with the four services as separate processes, its people signed in at
the test stack's real Keycloak: the final figures are exactly what the cast's choices imply,
computed here independently of the services, and every person-acting command was taken
over HTTP with the signed-in person as its actor."""

import random

import asyncpg

from ops.scenario import commands
from ops.scenario.cast import STAFF, Cast, cast
from ops.scenario.clicks import BOTS
from ops.scenario.play import Endpoints, Outcome, play
from schemas.consent import Purpose
from tests.e2e.audience import reaches

SIZE = 80


def expected_feeds(people: Cast) -> dict[str, set[str]]:
    return {item_id: {p.advocate_id for p in people.people
                      if reaches(p, content, people.answers[p.advocate_id].holds(Purpose.RECEIVE_CONTENT))}
            for item_id, content in commands.items(people).items()}


def human_clicks_on(outcome: Outcome, advocate_id: str) -> int:
    links = {s["tracked_url"] for s in outcome.shares if s["advocate_id"] == advocate_id}
    return sum(1 for url, agent, status in outcome.click_log if url in links and status == 302 and agent not in BOTS)


async def test_the_scenario_ends_with_exactly_the_figures_the_choices_imply(stack, keycloak, running_services, tmp_path):
    seed = random.randrange(2**32)
    where = Endpoints(stack.kafka_bootstrap, stack.admin_dsn, keycloak.base_url,
                      {name: f"http://127.0.0.1:{port}" for name, port in running_services.items()}, tmp_path)
    outcome = await play(where, SIZE, seed)
    people = cast(SIZE, seed, outcome.tag)
    pattern = f"adv-{outcome.tag}-%"
    admin = await asyncpg.connect(stack.admin_dsn)
    try:
        # Everyone who answered signed in once at Keycloak, and so did the five staff.
        assert outcome.sign_ins == len(people.answering()) + len(STAFF)

        for purpose in Purpose:
            valid = {r["advocate_id"] for r in await admin.fetch(
                "SELECT advocate_id FROM consent.consents WHERE purpose = $1 AND status IN ('given', 'renewed_given')"
                " AND advocate_id LIKE $2", purpose.value, pattern)}
            assert valid == {p.advocate_id for p in people.holding(purpose)}, purpose
        refused = await admin.fetchval("SELECT count(*) FROM consent.consents WHERE status = 'refused' "
                                       "AND advocate_id LIKE $1", pattern)
        assert refused == sum(len(a.refuses) for a in people.answers.values())
        deciders = {r["changed_by"] for r in await admin.fetch(
            "SELECT DISTINCT changed_by FROM consent.consents WHERE advocate_id LIKE $1", pattern)}
        assert deciders == {"subject"}  # each person, signed in; nobody for them

        feeds = expected_feeds(people)  # among this run's people; earlier runs' people may be in the directory too
        for item_id, audience in feeds.items():
            feed = {r["advocate_id"] for r in await admin.fetch(
                "SELECT advocate_id FROM distribution.feed WHERE item_id = $1 AND advocate_id LIKE $2",
                item_id, pattern)}
            assert feed == audience, item_id
            assert len(audience) > 0
            told = outcome.audience[item_id]  # the size from k people up, else "< k" (ADR 0018)
            if told.startswith("< "):
                assert len(audience) < int(told[2:]), item_id
            else:
                assert int(told) >= len(audience), item_id

        # Drafted and submitted by Ada, approved and released by Ben, each signed in over HTTP;
        # Ada's own approval was refused and left no trace.
        trail = {(r["actor"], r["action"], r["channel"]) for r in await admin.fetch(
            "SELECT actor, action, channel FROM curation.audit WHERE subject_id = ANY($1)", list(feeds))}
        ada, ben = people.staff("ada"), people.staff("ben")
        assert trail == {(ada, "item.draft", "api"), (ada, "item.submit", "api"), (ben, "item.approve", "api"),
                         (ben, "item.publish", "api"), (ben, "item.schedule", "api")}

        shares = await admin.fetch("SELECT share_id, advocate_id, item_id FROM distribution.shares "
                                   "WHERE advocate_id LIKE $1", pattern)
        assert sorted((s["share_id"], s["advocate_id"], s["item_id"]) for s in shares) == [
            (s["share_id"], s["advocate_id"], s["item_id"]) for s in outcome.shares]
        assert len(shares) > 0
        assert all(s["advocate_id"] in feeds[s["item_id"]] for s in shares)  # nobody shares what they did not get

        # The analyst's campaign report counts whole weeks that are over (ADR 0020): none of
        # this run's shares, made today. What metrics counted is checked in its tables.
        assert outcome.report["totals"] is None or outcome.report["totals"]["shares"] == 0
        share_ids = [s["share_id"] for s in outcome.shares]
        totals = dict(await admin.fetchrow(
            "SELECT count(*) AS shares, (SELECT coalesce(sum(clicks), 0) FROM metrics.clicks "
            "  WHERE share_id = ANY($1) AND NOT bot) AS clicks, coalesce(sum(e.impressions), 0) AS impressions, "
            "coalesce(sum(e.reactions), 0) AS reactions, coalesce(sum(e.comments), 0) AS comments, "
            "coalesce(sum(e.reshares), 0) AS reshares "
            "FROM metrics.shares s LEFT JOIN metrics.engagement e USING (share_id) "
            "WHERE s.share_id = ANY($1) AND NOT s.cancelled",
            share_ids))
        highest = {}
        for report in outcome.reported:  # repeats and late lower readings: the highest of each counter counts
            d = report.data
            old = highest.get(d.share_id, (0, 0, 0, 0))
            counters = (d.impressions, d.reactions, d.comments, d.reshares)
            highest[d.share_id] = tuple(max(a, b) for a, b in zip(old, counters, strict=True))
        assert (totals["shares"], totals["clicks"]) == (len(outcome.shares), outcome.human_clicks)
        assert [totals[k] for k in ("impressions", "reactions", "comments", "reshares")] == [
            sum(h[i] for h in highest.values()) for i in range(4)]
        assert "Spring of Sustainability" in outcome.report_html.read_text()

        who, impact = outcome.impact  # the busiest sharer among those who let shares count as theirs
        assert people.answers[who].holds(Purpose.SHARE_ATTRIBUTION)
        assert (impact["totals"]["shares"], impact["totals"]["clicks"]) == (
            sum(1 for s in outcome.shares if s["advocate_id"] == who), human_clicks_on(outcome, who))

        first, person = next(iter(feeds)), people.people[0].advocate_id
        assert [(r.attempt, r.status, r.reason) for r in outcome.rejections] == [
            (f"a manager's give for {person}, on Kafka", None, "sign_in_required"),
            (f"the manager, signed in, at POST /api/people/{person}/erasure", 403, "not_permitted"),
            (f"Ada approving her own {first}", 403, "four_eyes_violation")]
    finally:
        await admin.close()
