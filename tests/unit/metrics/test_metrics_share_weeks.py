"""Marking a share's figures due needs its item, campaign and week, which never change once
it is stored: metrics keeps them in memory for the shares it stored or looked up last."""

from datetime import date

from services.metrics.store import ShareWeeks

MONDAY = date(2026, 3, 2)


def test_a_share_it_learnt_is_known_and_one_it_did_not_must_be_looked_up():
    weeks = ShareWeeks()
    weeks.learn([("share-1", "item-1", "camp-1", MONDAY), ("share-2", "item-1", None, MONDAY)])
    assert weeks.of(["share-1", "share-3", "share-2"]) == ({("item-1", "camp-1", MONDAY), ("item-1", None, MONDAY)},
                                                        ["share-3"])
    assert weeks.of(["share-2", "share-1"]) == ({("item-1", "camp-1", MONDAY), ("item-1", None, MONDAY)}, [])


def test_it_holds_the_last_size_shares_learnt_and_forgets_the_oldest():
    weeks = ShareWeeks(size=2)
    weeks.learn([("share-1", "item-1", None, MONDAY), ("share-2", "item-2", None, MONDAY)])
    weeks.learn([("share-3", "item-3", None, MONDAY)])
    assert weeks.of(["share-1", "share-2", "share-3"])[1] == ["share-1"]


def test_shares_of_one_item_and_week_share_one_object_for_each():
    weeks = ShareWeeks()
    weeks.learn([("share-1", "item-" + "1", "camp-1", date(2026, 3, 2)),
                 ("share-2", "".join(["item-", "1"]), "camp-1", date(2026, 3, 2))])
    ((first,), _), ((second,), _) = weeks.of(["share-1"]), weeks.of(["share-2"])
    assert first[0] is second[0] and first[2] is second[2]


def test_what_it_learns_is_returned_even_when_learning_makes_it_forget_shares_it_held():
    weeks = ShareWeeks(size=1)
    weeks.learn([("share-1", "item-1", None, MONDAY)])
    held, unknown = weeks.of(["share-1", "share-2"])  # as mark_due asks, before looking share-2 up
    assert unknown == ["share-2"]
    learnt = weeks.learn([("share-2", "item-2", None, MONDAY)])
    assert held | learnt == {("item-1", None, MONDAY), ("item-2", None, MONDAY)}
    assert weeks.of(["share-1"]) == (set(), ["share-1"])  # forgotten since
