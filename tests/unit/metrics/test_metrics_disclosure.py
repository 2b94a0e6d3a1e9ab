"""Disclosure control (ADR 0020): which group figures a report or a snapshot may show so
that no subtraction of shown figures isolates fewer than k people. A cell is given as the
shares it sums; each share belongs to one person (here: share "s1.2" is person "s1"'s
second); k is 3, the floor."""

from datetime import date

from services.metrics.domain import (
    CLICK_DAY,
    EVERY_CAMPAIGN,
    TOTAL,
    TOTAL_KEY,
    Cell,
    aligned_period,
    disclosed,
    last_closed_day,
    shown_over_weeks,
    suppressed,
)

K = 3


def shares(prefix: str, people: int, each: int = 1) -> set[str]:
    """`each` shares of each of `people` people named prefix0, prefix1, …"""
    return {f"{prefix}{p}.{i}" for p in range(people) for i in range(each)}


def whose(cells) -> dict[str, str]:
    return {s: (s[0].split(".")[0] if isinstance(s, tuple) else s.split(".")[0])
            for elements in cells.values() for s in elements}


def org(key, campaign="c1") -> Cell:
    return Cell("org_unit", campaign, key)


def total(campaign="c1") -> Cell:
    return Cell(TOTAL, campaign, TOTAL_KEY)


def hidden(cells, never=()) -> set[Cell]:
    return suppressed(cells, whose(cells), K, never)


def breakdown(**groups: set[str]) -> dict[Cell, set[str]]:
    """One campaign's org units and its total."""
    cells = {org(name): members for name, members in groups.items()}
    cells[total()] = set().union(*groups.values())
    return cells


def test_a_group_of_fewer_than_k_people_is_not_shown_however_many_shares_they_made():
    assert org("Legal") in hidden(breakdown(Sales=shares("s", 5), Marketing=shares("m", 4), Legal=shares("l", 2, 9)))


def test_when_one_group_is_left_out_the_smallest_other_group_is_left_out_too_so_the_total_does_not_tell_it():
    cells = breakdown(Sales=shares("s", 5), Marketing=shares("m", 4), Legal=shares("l", 2))
    assert hidden(cells) == {org("Legal"), org("Marketing")}  # total − Sales: 6 people, not Legal's 2


def test_groups_left_out_that_together_have_k_people_need_no_further_suppression():
    cells = breakdown(Sales=shares("s", 5), Legal=shares("l", 2), Finance=shares("f", 1))
    assert hidden(cells) == {org("Legal"), org("Finance")}


def test_people_in_two_small_groups_count_once_towards_k():
    cells = breakdown(Sales=shares("s", 5), Legal={"b0.1", "b1.1"}, Finance={"b0.2", "b1.2"})
    assert org("Sales") in hidden(cells)  # what is left out is 2 people's, however many shares


def test_with_no_group_left_to_leave_out_the_total_is_withheld():
    assert hidden(breakdown(Legal=shares("l", 2))) == {org("Legal"), total()}


def test_shares_without_a_value_stay_in_what_is_left_over():
    cells = breakdown(Sales=shares("s", 5), Legal=shares("l", 1), Unknown=shares("n", 2))
    # Legal and the people without an org unit are 3 together: the total and Sales may be shown.
    assert hidden(cells, never={org("Unknown")}) == {org("Legal"), org("Unknown")}


def test_a_group_of_one_dimension_is_not_shown_when_one_of_another_dimension_inside_it_leaves_a_small_group():
    sales, marketing = shares("s", 5), shares("m", 2)
    cells = {org("Sales"): sales, org("Marketing"): marketing, Cell("location", "c1", "Bern"): sales | marketing,
             total(): sales | marketing}
    # Bern minus Sales would be Marketing's two people: Sales is left out as well.
    assert hidden(cells) == {org("Marketing"), org("Sales")}


def test_two_overlapping_topics_minus_the_total_do_not_tell_the_items_in_both():
    only_jobs, both, only_culture = shares("j", 4), shares("b", 2), shares("c", 4)
    cells = {Cell("topic", "c1", "jobs"): only_jobs | both, Cell("topic", "c1", "culture"): both | only_culture,
             total(): only_jobs | both | only_culture}
    assert len(hidden(cells)) == 1  # jobs + culture − total would be the two people in both


def test_a_topic_minus_its_items_shown_does_not_leave_a_small_group():
    big, small = shares("a", 5), shares("b", 2)
    cells = {Cell("topic", "c1", "jobs"): big | small, Cell("item", "c1", "i1"): big, Cell("item", "c1", "i2"): small,
             total(): big | small}
    assert Cell("item", "c1", "i1") in hidden(cells)


def test_the_totals_clicks_minus_the_days_shown_are_not_one_persons():
    clicked = {("s0.0", "03-02"), ("s1.0", "03-02"), ("s2.0", "03-02"), ("s0.0", "03-03")}
    cells = {total(): shares("s", 3) | shares("u", 5) | clicked, Cell(CLICK_DAY, "c1", "03-02"): clicked - {("s0.0", "03-03")},
             Cell(CLICK_DAY, "c1", "03-03"): {("s0.0", "03-03")}}
    # 03-03's clicks are one person's: 03-02 goes too, though 8 people made the totals.
    assert hidden(cells) == {Cell(CLICK_DAY, "c1", "03-03"), Cell(CLICK_DAY, "c1", "03-02")}


def test_a_groups_figures_per_network_are_told_by_its_emv_so_each_network_needs_k_people_in_it():
    on_linkedin, on_x = shares("s", 5), shares("x", 1)
    cells = breakdown(Sales=on_linkedin | on_x)
    networks = dict.fromkeys(on_linkedin, "linkedin") | dict.fromkeys(on_x, "x")
    # Sales has 6 people, but its EMV weighs linkedin and x apart: with its impressions
    # it tells the one person's on x. So Sales and the total are not shown.
    assert suppressed(cells, whose(cells), K, network=networks) == {org("Sales"), total()}
    assert suppressed(cells, whose(cells), K) == set()


def test_a_week_shows_a_campaigns_group_only_if_the_whole_periods_group_minus_it_is_not_a_small_group():
    atoms = {org("Sales"): shares("s", 5), org("Sales", None): shares("x", 1),
             total(): shares("s", 5), total(None): shares("x", 1)}
    shown = disclosed(atoms, whose(atoms), K)
    # Sales of the whole period minus Sales of the campaign would be the one person who
    # shared outside campaigns: one of the two is left out, and so is a total.
    assert not (shown[org("Sales")] and shown[org("Sales", EVERY_CAMPAIGN)])
    assert not (shown[total()] and shown[total(EVERY_CAMPAIGN)])


def test_shares_of_no_campaign_and_without_a_value_are_never_shown_on_their_own():
    atoms = {org("Sales", None): shares("s", 5), org(None): shares("n", 5),
             total(None): shares("s", 5), total(): shares("n", 5)}
    shown = disclosed(atoms, whose(atoms), K)
    assert not shown[org("Sales", None)] and not shown[org(None)] and not shown[org(None, EVERY_CAMPAIGN)]
    assert shown[org("Sales", EVERY_CAMPAIGN)] and shown[total(EVERY_CAMPAIGN)] and shown[total()]


def test_two_campaigns_are_not_both_shown_when_the_whole_minus_both_is_one_person():
    atoms = {org("Sales"): shares("a", 4), org("Sales", "c2"): shares("b", 5), org("Sales", None): {"x0.0"},
             total(): shares("a", 4), total("c2"): shares("b", 5), total(None): {"x0.0"}}
    shown = disclosed(atoms, whose(atoms), K)
    assert not shown[org("Sales")] and shown[org("Sales", "c2")] and shown[org("Sales", EVERY_CAMPAIGN)]


def test_a_week_with_k_people_everywhere_shows_everything():
    atoms = {org("Sales"): shares("s", 3), org("Legal"): shares("l", 3), total(): shares("s", 3) | shares("l", 3)}
    assert all(disclosed(atoms, whose(atoms), K).values())


def test_a_figure_over_several_weeks_is_shown_only_if_shown_in_every_week_it_has_shares_in():
    sales = org("Sales", EVERY_CAMPAIGN)
    shown, left_out, absent = {sales: True}, {sales: False}, {}
    assert shown_over_weeks([shown, absent, shown], sales)
    assert not shown_over_weeks([shown, left_out], sales)  # weeks 1–2 minus week 1 would be week 2


def test_group_reports_cover_whole_weeks_and_only_weeks_that_are_over():
    assert aligned_period(date(2026, 3, 1), date(2026, 3, 31)) == (date(2026, 2, 23), date(2026, 4, 5))
    assert aligned_period(date(2026, 3, 2), date(2026, 3, 8)) == (date(2026, 3, 2), date(2026, 3, 8))
    assert last_closed_day(date(2026, 3, 4)) == date(2026, 3, 1)  # a Wednesday: last Sunday
    assert last_closed_day(date(2026, 3, 2)) == date(2026, 3, 1)  # a Monday: yesterday
