"""A counted batch is prepared before its transaction; what was prepared is applied as it is
only when the consumer's positions show every event new (ADR 0026)."""

from types import SimpleNamespace

import pytest
from aiokafka import ConsumerRecord
from pydantic import TypeAdapter

from services.runtime.counted_batch import CountedBatch, Listing, publication_of

TOPIC = "advocacy.distribution.events.v1"


def record(partition: int, publication: int | None, publisher: bytes = b"relay-1") -> ConsumerRecord:
    headers = [] if publication is None else [("publisher", publisher), ("publication", str(publication).encode())]
    return ConsumerRecord(topic=TOPIC, partition=partition, offset=0, timestamp=0, timestamp_type=0, key=b"k",
                          value=b"{}", checksum=None, serialized_key_size=1, serialized_value_size=2, headers=headers)


def event(kind: str = "clicked") -> SimpleNamespace:
    return SimpleNamespace(type=kind, id=f"{kind}-id")


def batch(*pairs: tuple[ConsumerRecord, SimpleNamespace]) -> CountedBatch:
    counted = CountedBatch(TypeAdapter(dict), Listing, lambda e: e.type != "clicked")
    for record_, event_ in pairs:  # as decode_each hands them over
        counted.add(record_, event_)
    return counted.done()


def key(partition: int) -> tuple[str, int, str]:
    return TOPIC, partition, "relay-1"


def test_a_batch_above_the_positions_is_all_new_and_moves_each_to_its_last_number():
    first, second, third = event(), event(), event()
    counted = batch((record(0, 7), first), (record(1, 3), second), (record(0, 8), third))
    assert counted.all_new({key(0): 6, key(1): 0})
    assert counted.prepared == [first, second, third]
    assert counted.highest == {key(0): 8, key(1): 3}


def test_a_batch_whose_first_number_a_position_already_reached_is_not_all_new():
    counted = batch((record(0, 7), event()), (record(0, 8), event()))
    assert not counted.all_new({key(0): 7})


def test_a_number_repeated_within_the_batch_a_relays_resend_is_not_all_new():
    counted = batch((record(0, 7), event()), (record(0, 8), event()), (record(0, 7), event()))
    assert not counted.all_new({key(0): 0})


def test_an_unnumbered_event_that_is_not_idempotent_needs_the_inbox():
    assert not batch((record(0, 7), event()), (record(0, None), event("clicked"))).all_new({key(0): 0})
    assert batch((record(0, 7), event()), (record(0, None), event("observed"))).all_new({key(0): 0})


def test_a_part_is_prepared_from_its_own_events_and_records_are_decoded_again_when_needed():
    first, second = event(), event("observed")
    counted = batch((record(0, 7), first), (record(0, None), second))
    part = counted.part(record(0, None), second)
    assert part.prepared == [second] and part.highest == {} and part.all_new({})
    assert counted.prepare([first]) == [first]
    assert [decoded for _, decoded in counted.pairs()] == [{}, {}]  # the records' values, b"{}"


def test_a_publication_number_that_is_not_a_number_counts_as_unnumbered():
    bad = record(0, None)
    bad.headers.extend([("publisher", b"relay-1"), ("publication", b"seven")])
    assert publication_of(bad) is None
    assert publication_of(record(2, 9)) == ("relay-1", 9)


def test_a_publication_number_below_one_counts_as_unnumbered():
    """A relay numbers from 1 and a position starts at 0: 0 or -1 would be skipped as applied
    before, neither counted nor dead-lettered (found by a new user's odd headers)."""
    assert publication_of(record(0, 0)) is None
    assert publication_of(record(0, -1)) is None
    assert publication_of(record(0, 1)) == ("relay-1", 1)


class Refusing(Listing):
    """A preparation that refuses what it was given, as packing refuses a value it cannot write."""

    def result(self) -> list:
        raise TypeError("a packed column holds one type")


def test_a_batch_whose_preparation_fails_is_prepared_again_in_its_transaction_not_before_it():
    counted = CountedBatch(TypeAdapter(dict), Refusing, lambda e: True)
    counted.add(record(0, 7), event())

    counted.done()  # raised here, it would stop the consumer on these records again and again

    assert not counted.all_new({key(0): 0})  # so the transaction sorts the events itself
    with pytest.raises(TypeError):  # inside the transaction: the batch falls back to one event at a time
        counted.prepared_for([event()])


def test_what_was_prepared_serves_when_every_event_is_new_otherwise_the_new_ones_are_prepared():
    first, second = event(), event()
    counted = batch((record(0, 7), first), (record(0, 8), second))

    assert counted.prepared_for([first, second]) is counted.prepared
    assert counted.prepared_for([second]) == [second]
