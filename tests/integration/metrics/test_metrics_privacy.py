"""Privacy: group figures need k people, figures about a person need their consent and are
shown only to them, withdrawal and erasure remove the person while the aggregates stay."""

import json

from schemas.consent import Purpose
from tests.integration.metrics.conftest import impact_command, new_id, report_command

RENDERED, REJECTED = "advocacy.metrics.report.rendered.v1", "advocacy.metrics.command.rejected.v1"


async def people(metrics, count: int, org_unit: str, *purposes: Purpose) -> list[str]:
    ids = [new_id("adv") for _ in range(count)]
    for advocate in ids:
        await metrics.join(advocate, org_unit=org_unit, location="Bern")
        if purposes:
            await metrics.consent(advocate, *purposes)
    await metrics.until("SELECT count(*) FROM people WHERE advocate_id = ANY($1)", count, ids)
    if purposes:
        await metrics.until("SELECT count(*) FROM consents WHERE advocate_id = ANY($1)", count * len(purposes), ids)
    return ids


async def report(metrics, command) -> dict:
    answer = await metrics.render(command)
    assert answer["type"] == RENDERED, answer
    return json.loads(open(answer["data"]["json_path"]).read()) | {"html": open(answer["data"]["html_path"]).read()}


async def test_an_org_unit_with_fewer_than_k_people_is_left_out_of_reports(metrics):
    sales, legal = await people(metrics, 5, "Sales"), await people(metrics, 2, "Legal")
    shares = [metrics.share(a, "item-00000001") for a in sales + legal + legal]  # Legal: 4 shares, 2 people
    await metrics.send_to(metrics.topics.distribution_events, *shares)
    await metrics.drained(metrics.topics.distribution_events)

    figures = await report(metrics, report_command(new_id("rep")))
    assert [(g["org_unit"], g["shares"]) for g in figures["by_org_unit"]] == [("Sales", 5)]
    assert [(g["location"], g["shares"]) for g in figures["by_location"]] == [("Bern", 9)]  # 7 people there
    assert figures["totals"]["shares"] == 9  # Legal's shares still count, unattributed
    assert "Legal" not in figures["html"] and "Sales" in figures["html"]


async def test_my_impact_is_only_for_the_advocate_and_only_with_attribution_consent(metrics):
    [mine], [other] = await people(metrics, 1, "Sales", Purpose.SHARE_ATTRIBUTION), await people(metrics, 1, "Sales")
    share = metrics.share(mine, "item-00000001")
    await metrics.send_to(metrics.topics.distribution_events, share, metrics.share(other, "item-00000001"), metrics.click(share))
    await metrics.drained(metrics.topics.distribution_events)

    impact = await report(metrics, impact_command(new_id("rep"), mine))
    assert (impact["totals"]["shares"], impact["totals"]["clicks"]) == (1, 1)
    assert "by_org_unit" not in impact and "leaderboard" not in impact

    asked_by_manager = await metrics.render(impact_command(new_id("rep"), mine, actor="manager-1"))
    assert (asked_by_manager["type"], asked_by_manager["data"]["reason"]) == (REJECTED, "actor_not_subject")
    without_consent = await metrics.render(impact_command(new_id("rep"), other))
    assert (without_consent["type"], without_consent["data"]["reason"]) == (REJECTED, "attribution_not_consented")


async def test_withdrawal_removes_attribution_and_erasure_the_person_while_aggregates_stay(metrics):
    alice, bob = await people(metrics, 2, "Sales", Purpose.SHARE_ATTRIBUTION, Purpose.NETWORK_REACH, Purpose.LEADERBOARD)
    shares = [metrics.share(alice, "item-00000001"), metrics.share(bob, "item-00000001")]
    await metrics.send_to(metrics.topics.distribution_events, *shares, *[metrics.click(s) for s in shares])
    await metrics.drained(metrics.topics.distribution_events)
    before = await report(metrics, report_command(new_id("rep")))
    assert sorted(r["advocate_id"] for r in before["leaderboard"]) == sorted([alice, bob])

    await metrics.consent(alice, Purpose.SHARE_ATTRIBUTION, valid=False)
    await metrics.until("SELECT count(*) FROM attributed_shares WHERE advocate_id = $1", 0, alice)
    await metrics.erase(bob)
    await metrics.until("SELECT count(*) FROM consents WHERE advocate_id = $1", 0, bob)

    after = await report(metrics, report_command(new_id("rep")))
    assert after["totals"] == before["totals"]
    assert after["leaderboard"] == []
    for table in ("people", "consents", "contributors", "attributed_shares", "followers"):
        assert await metrics.fetch(f"SELECT * FROM {table} WHERE advocate_id = $1", bob) == []
    rows = await metrics.fetch("SELECT s::text AS row FROM shares s UNION ALL SELECT c::text FROM clicks c")
    assert not any(bob in r["row"] for r in rows)
