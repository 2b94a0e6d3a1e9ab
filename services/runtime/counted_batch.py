"""A batch of a counted topic, worked out as far as it can be before its transaction
(ADR 0021, ADR 0026).

While batch N's transaction runs, the consumer decodes batch N+1 and, record by record as it
decodes, reads each record's publication number and hands its event to the effect's
`Preparing` (metrics: the tally of shares, clicks and counters, packed as its statements'
parameters), then lets the event go: keeping thousands of decoded events alive until the
transaction cost more than validating them. When N+1's transaction has read the consumer's
positions, one comparison per (topic, partition, publisher) tells whether every event of
the batch is new, the usual case: then what was prepared is applied as it is. Otherwise (a
redelivery, a relay's re-send, an event that needs an inbox claim, a preparation that
failed) the records are decoded again, their events sorted one by one, and what is new
prepared again.
"""

from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from aiokafka import ConsumerRecord
from pydantic import TypeAdapter

E = TypeVar("E")
P = TypeVar("P")
P_co = TypeVar("P_co", covariant=True)

Key = tuple[str, int, str]  # topic, partition, publisher


class Preparing(Protocol[P_co]):
    """What an effect works out from events without the database: given them one at a time
    (`add`, in order), then `result()` once."""

    def add(self, event: Any) -> None: ...

    def result(self) -> P_co: ...


class Listing:
    """Prepares nothing: the events as a list, for an effect that takes them as they are."""

    def __init__(self) -> None:
        self._events: list[Any] = []
        self.add = self._events.append

    def result(self) -> list[Any]:
        return self._events


class CountedBatch(Generic[E, P]):
    """The records of a batch that decoded (`decode`, each checked), each one's (publisher,
    publication) or None, and `prepared`, what `preparing` made of all their events.
    `idempotent(event)`: an event whose effect counts it once however often it comes (needs
    no inbox claim when unnumbered)."""

    def __init__(self, decode: TypeAdapter[E], preparing: Callable[[], Preparing[P]],
                 idempotent: Callable[[E], bool]) -> None:
        self.decode = decode
        self.preparing = preparing
        self.idempotent = idempotent
        self.records: list[ConsumerRecord] = []
        self.publications: list[tuple[str, int] | None] = []
        self.lowest: dict[Key, int] = {}  # per key, the first publication number in the batch
        self.highest: dict[Key, int] = {}  # and the last: where the position moves to
        self.in_order = True  # each key's numbers rise through the batch (no repeat)
        self.claims = False  # some event is neither numbered nor idempotent: the inbox decides
        self._preparing = preparing()
        self.prepared: P
        self.unprepared = False  # `preparing` failed on these events: prepared again in the transaction

    def add(self, record: ConsumerRecord, event: E) -> None:
        """The next record, decoded as `event`, in order."""
        self.records.append(record)
        self._preparing.add(event)
        publication = publication_of(record)
        self.publications.append(publication)
        if publication is None:
            if not self.claims and not self.idempotent(event):
                self.claims = True
            return
        key = (record.topic, record.partition, publication[0])
        last = self.highest.get(key)
        if last is None:
            self.lowest[key] = self.highest[key] = publication[1]
            return
        if publication[1] <= last:
            self.in_order = False
        else:
            self.highest[key] = publication[1]

    def done(self) -> "CountedBatch[E, P]":
        try:
            self.prepared = self._preparing.result()
        except Exception:  # a value the preparation refuses (metrics packs the statements' columns)
            # Raised here, before the transaction, it would stop the consumer on the same records
            # again and again. Prepared again inside the transaction (`prepared_for`), it fails
            # that transaction: the batch falls back to one event at a time and only the events
            # at fault are dead-lettered (`Inbox.apply_counted`).
            self.unprepared = True
        return self

    def all_new(self, position: dict[Key, int]) -> bool:
        """Whether every event is new to a consumer at `position` (per key, the last number
        it applied) and the batch was prepared: then `prepared` is what to apply, and
        `highest` where positions go."""
        return not self.unprepared and not self.claims and self.in_order and all(
            first > position[key] for key, first in self.lowest.items())

    def pairs(self) -> list[tuple[ConsumerRecord, E]]:
        """(record, event) for each record, decoded again (they decoded before)."""
        return [(record, self.decode.validate_json(record.value)) for record in self.records]

    def prepared_for(self, events: Sequence[E]) -> P:
        """What `preparing` makes of `events`, the batch's events found new: `prepared` when
        they are all of them and it was made, otherwise prepared now (raises what
        `preparing` raises)."""
        if len(events) == len(self.records) and not self.unprepared:
            return self.prepared
        return self.prepare(events)

    def prepare(self, events: Sequence[E]) -> P:
        """What `preparing` makes of some of the events (those found new)."""
        preparing = self.preparing()
        for event in events:
            preparing.add(event)
        return preparing.result()

    def part(self, record: ConsumerRecord, event: E) -> "CountedBatch[E, P]":
        """A batch of one of these records (applied on its own when the whole batch failed)."""
        part = CountedBatch[E, P](self.decode, self.preparing, self.idempotent)
        part.add(record, event)
        return part.done()


def publication_of(record: ConsumerRecord) -> tuple[str, int] | None:
    """(publisher, publication number) if the outbox relay numbered this record."""
    publisher = publication = None
    for name, value in record.headers or ():  # a few headers: a loop, not a dict per record
        if name == "publisher":
            publisher = value
        elif name == "publication":
            publication = value
    if publisher is None or publication is None:
        return None
    try:
        number = int(publication)
    except ValueError:
        return None  # not a number: treated as not numbered
    # A relay numbers from 1, and a position starts at 0: a number below 1 would be taken for
    # one applied before and dropped without a trace. Treated as not numbered (the inbox).
    return (publisher.decode(), number) if number > 0 else None
