"""Privacy: group figures need k people, in every format; figures about a person need
their consent and are shown only to them; withdrawal and erasure remove the person while
the aggregates stay."""

import csv
import io

from schemas.consent import Purpose
from tests.integration.metrics.conftest import ANALYST


async def test_an_org_unit_with_fewer_than_k_people_is_left_out_of_reports_in_every_format(metrics):
    sales, marketing = await metrics.people(5, "Sales"), await metrics.people(5, "Marketing")
    legal = await metrics.people(2, "Legal")
    shares = [metrics.share(a, "item-00000001") for a in sales + marketing + legal + legal]  # Legal: 4 shares
    await metrics.send_to(metrics.topics.distribution_events, *shares)
    await metrics.drained(metrics.topics.distribution_events)

    figures = await metrics.report_json()
    # Legal is left out, and so is the smaller other unit (Marketing, tied with Sales, first
    # by name): totals minus the units shown are 7 people's shares, not Legal's.
    assert [(g["org_unit"], g["shares"]) for g in figures["by_org_unit"]] == [("Sales", 5)]
    assert [(g["location"], g["shares"]) for g in figures["by_location"]] == [("Bern", 14)]  # 12 people there
    assert figures["totals"]["shares"] == 14  # Legal's shares still count, unattributed
    assert "contributors" not in figures["by_org_unit"][0]  # used to suppress, never shown
    html = (await metrics.report(format="html")).text
    assert "Legal" not in html and "Marketing" not in html and "Sales" in html
    rows = list(csv.DictReader(io.StringIO((await metrics.report(format="csv")).text)))
    assert [(r["group"], r["shares"]) for r in rows if r["dimension"] == "org_unit"] == [("Sales", "5")]
    assert not any("Legal" in value for r in rows for value in r.values())


async def test_reports_name_nobody_and_hold_no_leaderboard(metrics):
    fans = await metrics.people(5, "Sales", Purpose.SHARE_ATTRIBUTION, Purpose.LEADERBOARD)
    await metrics.send_to(metrics.topics.distribution_events, *[metrics.share(a, "item-00000001") for a in fans])
    await metrics.drained(metrics.topics.distribution_events)

    for format in ("json", "html", "csv"):
        text = (await metrics.report(format=format)).text
        assert not any(advocate in text for advocate in fans), format
        assert "leaderboard" not in text.lower(), format


async def test_withdrawal_removes_attribution_and_erasure_the_person_while_aggregates_stay(metrics):
    alice, bob = await metrics.people(2, "Sales", Purpose.SHARE_ATTRIBUTION, Purpose.NETWORK_REACH,
                                      Purpose.LEADERBOARD)
    shares = [metrics.share(alice, "item-00000001"), metrics.share(bob, "item-00000001")]
    await metrics.send_to(metrics.topics.distribution_events, *shares, *[metrics.click(s) for s in shares])
    await metrics.drained(metrics.topics.distribution_events)
    before = await metrics.report_json()
    board = (await metrics.read("/api/me/leaderboard", metrics.token(alice))).json()
    assert sorted(p["advocate_id"] for p in board["top"]) == sorted([alice, bob])
    assert (await metrics.read("/api/me/impact", metrics.token(alice))).json()["totals"]["shares"] == 1

    await metrics.consent(alice, Purpose.SHARE_ATTRIBUTION, valid=False)
    await metrics.until("SELECT count(*) FROM attributed_shares WHERE advocate_id = $1", 0, alice)
    await metrics.erase(bob)
    await metrics.until("SELECT count(*) FROM consents WHERE advocate_id = $1", 0, bob)

    after = await metrics.report_json()
    assert after["totals"] == before["totals"]
    assert (await metrics.read("/api/me/impact", metrics.token(alice))).json()["reason"] == "attribution_not_consented"
    assert (await metrics.read("/api/me/leaderboard", metrics.token(alice))).json()["reason"] == (
        "leaderboard_not_consented")
    assert (await metrics.read("/api/me/leaderboard", metrics.token(bob))).status_code == 403
    for table in ("people", "consents", "contributors", "attributed_shares", "followers"):
        assert await metrics.fetch(f"SELECT * FROM {table} WHERE advocate_id = $1", bob) == []
    rows = await metrics.fetch("SELECT s::text AS row FROM shares s UNION ALL SELECT c::text FROM clicks c")
    assert not any(bob in r["row"] for r in rows)


async def test_an_analyst_sees_no_ones_impact_but_their_own(metrics):
    [sharer] = await metrics.people(1, "Sales", Purpose.SHARE_ATTRIBUTION)
    await metrics.send_to(metrics.topics.distribution_events, metrics.share(sharer, "item-00000001"))
    await metrics.drained(metrics.topics.distribution_events)

    # The analyst role opens reports, not people: "my impact" is the token's subject's.
    response = await metrics.read("/api/me/impact", metrics.token(ANALYST, "analyst"))
    assert (response.status_code, response.json()["reason"]) == (403, "attribution_not_consented")
