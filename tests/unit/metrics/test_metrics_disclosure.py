"""Disclosure control (ADR 0020): which group figures a report or a snapshot may show so
that no subtraction of shown figures isolates fewer than k people. Contributors are given
as sets of opaque tokens; k is 3 here, the floor."""

from datetime import date

from services.metrics.domain import (
    EVERY_CAMPAIGN,
    TOTAL,
    TOTAL_KEY,
    Cell,
    Line,
    aligned_period,
    disclosed,
    last_closed_day,
    shown_over_weeks,
    suppressed,
)

K = 3


def people(prefix: str, n: int) -> set[str]:
    return {f"{prefix}{i}" for i in range(n)}


def org(campaign, key) -> Cell:
    return Cell("org_unit", campaign, key)


def total(campaign) -> Cell:
    return Cell(TOTAL, campaign, TOTAL_KEY)


def breakdown(**groups: set[str]) -> tuple[dict[Cell, set[str]], Line]:
    """Cells of one campaign's org units and the line they form with its total."""
    cells = {org("c1", name): members for name, members in groups.items()}
    cells[total("c1")] = set().union(*groups.values())
    return cells, Line(total("c1"), tuple(c for c in cells if c.dimension != TOTAL))


def test_a_group_of_fewer_than_k_people_is_not_shown():
    cells, line = breakdown(Sales=people("s", 5), Marketing=people("m", 4), Legal=people("l", 2))
    assert org("c1", "Legal") in suppressed(cells, [line], K)


def test_when_one_group_is_left_out_the_smallest_other_group_is_left_out_too_so_the_total_does_not_tell_it():
    cells, line = breakdown(Sales=people("s", 5), Marketing=people("m", 4), Legal=people("l", 2))
    hidden = suppressed(cells, [line], K)
    assert hidden == {org("c1", "Legal"), org("c1", "Marketing")}  # total − Sales: 6 people, not Legal's 2
    assert total("c1") not in hidden


def test_groups_left_out_that_together_have_k_people_need_no_further_suppression():
    cells, line = breakdown(Sales=people("s", 5), Legal=people("l", 2), Finance=people("f", 1))
    assert suppressed(cells, [line], K) == {org("c1", "Legal"), org("c1", "Finance")}


def test_people_in_two_small_groups_count_once_towards_k():
    both = people("b", 2)
    cells, line = breakdown(Sales=people("s", 5), Legal=both, Finance=both)  # 2 distinct people left out
    assert org("c1", "Sales") in suppressed(cells, [line], K)


def test_with_no_group_left_to_leave_out_the_total_is_withheld():
    cells, line = breakdown(Legal=people("l", 2))
    assert suppressed(cells, [line], K) == {org("c1", "Legal"), total("c1")}


def test_shares_without_a_value_count_among_the_cells_left_out():
    cells, line = breakdown(Sales=people("s", 5), Legal=people("l", 1))
    cells[org("c1", None)] = people("n", 2)  # shares of people without an org unit
    line = Line(line.margin, (*line.cells, org("c1", None)))
    cells[total("c1")] |= cells[org("c1", None)]
    # Legal and the unknown org unit together are 3 people: the total and Sales may be shown.
    assert suppressed(cells, [line], K, never={org("c1", None)}) == {org("c1", "Legal"), org("c1", None)}


def test_a_week_shows_a_campaigns_group_only_if_the_whole_periods_group_minus_it_is_not_a_small_group():
    atoms = {org("c1", "Sales"): people("s", 5), org(None, "Sales"): people("x", 1),
             total("c1"): people("s", 5), total(None): people("x", 1)}
    shown = disclosed(atoms, K)
    # Sales of the whole period minus Sales of the campaign would be the one person who
    # shared outside campaigns: one of the two is left out, and so is a total.
    assert not (shown[org("c1", "Sales")] and shown[org(EVERY_CAMPAIGN, "Sales")])
    assert not (shown[total("c1")] and shown[total(EVERY_CAMPAIGN)])


def test_shares_of_no_campaign_and_without_a_value_are_never_shown_on_their_own():
    atoms = {org(None, "Sales"): people("s", 5), org("c1", None): people("n", 5),
             total(None): people("s", 5), total("c1"): people("n", 5)}
    shown = disclosed(atoms, K)
    assert not shown[org(None, "Sales")] and not shown[org("c1", None)] and not shown[org(EVERY_CAMPAIGN, None)]
    assert shown[org(EVERY_CAMPAIGN, "Sales")] and shown[total(EVERY_CAMPAIGN)] and shown[total("c1")]


def test_two_campaigns_are_not_both_shown_when_the_whole_minus_both_is_one_person():
    atoms = {org("c1", "Sales"): people("a", 4), org("c2", "Sales"): people("b", 5), org(None, "Sales"): {"x"},
             total("c1"): people("a", 4), total("c2"): people("b", 5), total(None): {"x"}}
    shown = disclosed(atoms, K)
    left_out = [c for c in (org("c1", "Sales"), org("c2", "Sales")) if not shown[c]]
    assert left_out == [org("c1", "Sales")] and shown[org(EVERY_CAMPAIGN, "Sales")]  # the smaller one goes


def test_a_week_with_k_people_everywhere_shows_everything():
    atoms = {org("c1", "Sales"): people("s", 3), org("c1", "Legal"): people("l", 3), total("c1"): people("sl", 6)}
    assert all(disclosed(atoms, K).values())


def test_a_figure_over_several_weeks_is_shown_only_if_shown_in_every_week_it_has_shares_in():
    sales = org(EVERY_CAMPAIGN, "Sales")
    shown, hidden, absent = {sales: True}, {sales: False}, {}
    assert shown_over_weeks([shown, absent, shown], sales)
    assert not shown_over_weeks([shown, hidden], sales)  # weeks 1–2 minus week 1 would be week 2


def test_group_reports_cover_whole_weeks_and_only_weeks_that_are_over():
    assert aligned_period(date(2026, 3, 1), date(2026, 3, 31)) == (date(2026, 2, 23), date(2026, 4, 5))
    assert aligned_period(date(2026, 3, 2), date(2026, 3, 8)) == (date(2026, 3, 2), date(2026, 3, 8))
    assert last_closed_day(date(2026, 3, 4)) == date(2026, 3, 1)  # a Wednesday: last Sunday
    assert last_closed_day(date(2026, 3, 2)) == date(2026, 3, 1)  # a Monday: yesterday
