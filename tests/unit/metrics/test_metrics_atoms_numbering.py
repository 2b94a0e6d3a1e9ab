"""A week's atoms come from several statements that each number its shares (ADR 0028); in a
READ COMMITTED transaction a share stored or cancelled between two of them shifts the
numbers. The reading starts over until every statement numbers the shares as the first did,
so that no cell counts another share's person."""

from datetime import date

import pytest

from services.metrics import queries

WEEK = date(2026, 3, 2)
SUMS = dict.fromkeys(("shares", "clicks", "unique_clicks", "impressions", "reactions", "comments", "reshares",
                      "potential_reach"), 1)


def dimension_rows(people: list[int]) -> list[dict]:
    """One atom holding shares 0..len-1, with their people."""
    return [{"week": WEEK, "campaign_id": None, "key": "k", "network": "linkedin", **SUMS,
             "elements": list(range(len(people))), "people": people}]


def pair_rows(people: list[int]) -> list[dict]:
    return [{"week": WEEK, "campaign_id": None, "key": WEEK, "clicks": 1,
             "elements": [len(people) + n for n in range(len(people))], "shares": list(range(len(people))),
             "people": people}]


class Statements:
    """A connection whose statements return `readings` one after another: per reading, the
    people each of the statements (network first, click days last) numbers the shares with."""

    def __init__(self, *readings: list[list[int]]) -> None:
        self.readings = [[dimension_rows(p) for p in reading[:-1]] + [pair_rows(reading[-1])]
                         for reading in readings]
        self.statements = 0

    async def fetch(self, query: str, *args: object) -> list[dict]:
        self.statements += 1
        if "s.network AS key" in query:  # the first statement of a reading (GROUP_DIMENSIONS[0])
            self.answers = self.readings.pop(0)
        return self.answers.pop(0)


STATEMENTS = len(queries.GROUP_DIMENSIONS) + 1


async def test_a_reading_whose_statements_number_the_shares_alike_is_taken_at_once():
    conn = Statements([[1, 2, 3]] * STATEMENTS)
    found = await queries.atoms(conn, WEEK, date(2026, 3, 8))
    assert list(found.person) == [1, 2, 3] and conn.statements == STATEMENTS


async def test_a_share_stored_between_two_statements_makes_the_week_read_again():
    shifted = [[1, 2, 3]] * 2 + [[1, 9, 2, 3]] + [[1, 9, 2, 3]] * (STATEMENTS - 3)  # share 1 of person 9 came
    conn = Statements(shifted, [[1, 9, 2, 3]] * STATEMENTS)
    found = await queries.atoms(conn, WEEK, date(2026, 3, 8))
    assert list(found.person) == [1, 9, 2, 3]
    assert conn.statements == 3 + STATEMENTS  # the first reading stopped where it disagreed


async def test_a_week_that_keeps_changing_is_refused_rather_than_decided_on_mixed_numbers():
    changing = [[1, 2]] + [[2, 1]] * (STATEMENTS - 1)
    with pytest.raises(queries.InconsistentNumbering):
        await queries.atoms(Statements(*[changing] * queries._ATTEMPTS), WEEK, date(2026, 3, 8))
