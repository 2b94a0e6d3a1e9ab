"""The front door of metrics: "my impact" and the leaderboard for the signed-in person, only
with their consent and only their own; reports only for analysts; refusals as problem
documents with their reasons; the old Kafka commands refused with `sign_in_required`."""

import re

import pytest

from schemas.consent import Purpose
from tests.integration.metrics.conftest import ANALYST, impact_command, new_id, report_command

PROBLEM = "application/problem+json"
ENDPOINTS = ("/api/me/impact", "/api/me/leaderboard", "/api/reports")


def refused(response, status: int, reason: str) -> dict:
    assert (response.status_code, response.headers["content-type"]) == (status, PROBLEM), response.text
    problem = response.json()
    assert problem["reason"] == reason, problem
    return problem


async def test_my_impact_shows_the_callers_attributed_figures_as_json_html_or_csv(metrics):
    [me] = await metrics.people(1, "Sales", Purpose.SHARE_ATTRIBUTION)
    [other] = await metrics.people(1, "Sales", Purpose.SHARE_ATTRIBUTION)
    mine = metrics.share(me, "item-00000001", "linkedin")
    await metrics.send_to(metrics.topics.distribution_events, mine, metrics.click(mine), metrics.click(mine, "v2"),
                          metrics.share(me, "item-00000002", "x"), metrics.share(other, "item-00000001"))
    await metrics.drained(metrics.topics.distribution_events)

    response = await metrics.read("/api/me/impact", metrics.token(me))
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    impact = response.json()
    assert (impact["title"], impact["totals"]["shares"], impact["totals"]["clicks"]) == ("My impact", 2, 2)
    assert [(n["network"], n["shares"]) for n in impact["by_network"]] == [("linkedin", 1), ("x", 1)]
    assert not {"by_org_unit", "by_location", "k_anonymity", "leaderboard"} & set(impact)
    html = (await metrics.read("/api/me/impact", metrics.token(me), accept="text/html")).text
    assert re.search(r'class="bar" data-label="linkedin" data-value="2"', html) and "My impact" in html
    csv_text = (await metrics.read("/api/me/impact", metrics.token(me), format="csv")).text
    assert csv_text.splitlines()[1].startswith("total,,,2,2,")


async def test_my_impact_needs_the_callers_share_attribution_consent(metrics):
    [without] = await metrics.people(1, "Sales", Purpose.LEADERBOARD, Purpose.NETWORK_REACH)
    await metrics.send_to(metrics.topics.distribution_events, metrics.share(without, "item-00000001"))
    await metrics.drained(metrics.topics.distribution_events)

    problem = refused(await metrics.read("/api/me/impact", metrics.token(without)), 403, "attribution_not_consented")
    assert without not in problem["detail"]


async def test_nobody_can_ask_for_someone_elses_impact_nor_learn_whether_they_exist(metrics):
    [known] = await metrics.people(1, "Sales")  # in the directory, no consent
    stranger = new_id("adv")  # metrics never heard of them
    [target] = await metrics.people(1, "Sales", Purpose.SHARE_ATTRIBUTION)

    # There is no parameter that names a person: one sent is refused, not ignored.
    naming = await metrics.read("/api/me/impact", metrics.token(known), advocate_id=target)
    assert refused(naming, 422, "invalid_request")["errors"] == [{"location": ["query", "advocate_id"],
                                                                   "type": "extra_forbidden"}]
    # Without consent, being in the directory or not makes no difference to the answer.
    answers = [await metrics.read("/api/me/impact", metrics.token(p)) for p in (known, stranger)]
    assert answers[0].status_code == answers[1].status_code == 403
    assert answers[0].json() == answers[1].json()


async def test_the_leaderboard_ranks_only_people_who_opted_in_and_marks_the_callers_place(metrics):
    fans = await metrics.people(3, "Sales", Purpose.SHARE_ATTRIBUTION, Purpose.LEADERBOARD)
    [shy] = await metrics.people(1, "Sales", Purpose.SHARE_ATTRIBUTION)  # counted as theirs, not ranked
    shares = {a: metrics.share(a, "item-00000001") for a in [*fans, shy]}
    clicks = {fans[0]: 1, fans[1]: 3, fans[2]: 0, shy: 9}
    await metrics.send_to(metrics.topics.distribution_events, *shares.values(),
                          *[metrics.click(shares[a], f"v{i}") for a, n in clicks.items() for i in range(n)])
    await metrics.drained(metrics.topics.distribution_events)

    response = await metrics.read("/api/me/leaderboard", metrics.token(fans[2]), limit=2)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    board = response.json()
    assert [(p["rank"], p["advocate_id"], p["clicks"], p["you"]) for p in board["top"]] == [
        (1, fans[1], 3, False), (2, fans[0], 1, False)]
    assert board["you"] == {"rank": 3, "advocate_id": fans[2], "shares": 1, "clicks": 0, "you": True}
    assert shy not in response.text
    first = (await metrics.read("/api/me/leaderboard", metrics.token(fans[1]))).json()
    assert first["you"] == first["top"][0] and len(first["top"]) == 3


@pytest.mark.parametrize("purposes", [(), (Purpose.SHARE_ATTRIBUTION,), (Purpose.LEADERBOARD,)])
async def test_the_leaderboard_is_refused_to_anyone_not_in_it_whatever_their_role(metrics, purposes):
    [person] = await metrics.people(1, "Sales", *purposes)
    for token in (metrics.token(person), metrics.token(person, "analyst", "approver", "privacy_officer")):
        refused(await metrics.read("/api/me/leaderboard", token), 403, "leaderboard_not_consented")


async def test_reports_are_for_analysts_only(metrics):
    for roles in ((), ("advocate",), ("editor", "approver", "privacy_officer", "operator")):
        refused(await metrics.read("/api/reports", metrics.token(new_id("adv"), *roles)), 403, "not_permitted")
    assert (await metrics.read("/api/reports", metrics.token(ANALYST, "analyst"))).status_code == 200


async def test_every_endpoint_needs_a_valid_token(metrics):
    [person] = await metrics.people(1, "Sales", Purpose.SHARE_ATTRIBUTION, Purpose.LEADERBOARD)
    for path in ENDPOINTS:
        refused(await metrics.read(path, None), 401, "unauthenticated")
        expired = metrics.issuer.token(sub=person, realm_roles=("analyst",), exp=1)
        refused(await metrics.read(path, expired), 401, "unauthenticated")
        refused(await metrics.read(path, "not-a-token"), 401, "unauthenticated")


async def test_a_period_or_currency_that_cannot_be_reported_is_refused_with_its_reason(metrics):
    [person] = await metrics.people(1, "Sales", Purpose.SHARE_ATTRIBUTION, Purpose.LEADERBOARD)
    analyst, me = metrics.token(ANALYST, "analyst"), metrics.token(person)
    for path, token in (("/api/reports", analyst), ("/api/me/impact", me), ("/api/me/leaderboard", me)):
        refused(await metrics.read(path, token, from_="2026-03-02", to="2026-03-01"), 422, "invalid_period")
        refused(await metrics.read(path, token, from_="2025-01-01", to="2026-01-02"), 422, "invalid_period")
        refused(await metrics.read(path, token, from_="yesterday"), 422, "invalid_request")
        # Only a calendar date: pydantic also read seconds since 1970 and a date-time at midnight.
        for day in ("1764547200", "2026-12-01T00:00:00Z", "2026-1-1", "+2026-01-01"):
            refused(await metrics.read(path, token, from_=day, to="2026-12-02"), 422, "invalid_request")
            refused(await metrics.read(path, token, from_="2026-12-01", to=day), 422, "invalid_request")
        refused(await metrics.read(path, token, campaign_id="x" * 65), 422, "invalid_request")
    for path, token in (("/api/reports", analyst), ("/api/me/impact", me)):
        refused(await metrics.read(path, token, currency="USD"), 422, "unknown_currency")
        refused(await metrics.read(path, token, currency="eur"), 422, "invalid_request")
    refused(await metrics.read("/api/reports", analyst, campaign_id=new_id("camp")), 404, "unknown_campaign")
    refused(await metrics.read("/api/me/leaderboard", me, limit=0), 422, "invalid_request")


async def test_writing_to_a_report_is_not_allowed_and_changes_nothing(metrics):
    before = await metrics.count("shares")
    for path in ENDPOINTS:
        response = await metrics.call("POST", path, {"totals": {"shares": 1}}, token=metrics.token(ANALYST, "analyst"))
        refused(response, 405, "method_not_allowed")
    assert await metrics.count("shares") == before


async def test_report_commands_on_kafka_are_refused_with_sign_in_required(metrics):
    [person] = await metrics.people(1, "Sales", Purpose.SHARE_ATTRIBUTION)
    commands = [report_command(new_id("rep")), impact_command(new_id("rep"), person)]
    await metrics.send(*commands)

    answers = await metrics.events(lambda e: e["subject"] in {c.subject for c in commands}, at_least=2)
    assert sorted((a["type"], a["data"]["command_type"], a["data"]["reason"]) for a in answers) == [
        ("advocacy.metrics.command.rejected.v1", "advocacy.metrics.impact.render.v1", "sign_in_required"),
        ("advocacy.metrics.command.rejected.v1", "advocacy.metrics.report.render.v1", "sign_in_required")]
    assert await metrics.emitted(lambda e: e["type"] == "advocacy.metrics.report.rendered.v1") == []
