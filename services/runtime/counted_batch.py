"""A batch of a counted topic, worked out as far as it can be before its transaction
(ADR 0021, ADR 0026).

While batch N's transaction runs, the consumer decodes batch N+1 and, chunk by chunk as it
decodes, reads each record's publication number and hands its events to the effect's
`Preparing` (metrics: the tally of shares, clicks and counters). When N+1's transaction has
read the consumer's positions, one comparison per (topic, partition, publisher) tells
whether every event of the batch is new, the usual case: then what was prepared is applied
as it is. Otherwise (a redelivery, a relay's re-send, an event that needs an inbox claim)
the events are sorted one by one and what is new prepared again.
"""

from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from aiokafka import ConsumerRecord

E = TypeVar("E")
P = TypeVar("P")
P_co = TypeVar("P_co", covariant=True)

Key = tuple[str, int, str]  # topic, partition, publisher


class Preparing(Protocol[P_co]):
    """What an effect works out from events without the database: given them a chunk at a
    time (`add`, in order), then `result()` once."""

    def add(self, events: Sequence[Any]) -> None: ...

    def result(self) -> P_co: ...


class Listing:
    """Prepares nothing: the events as a list, for an effect that takes them as they are."""

    def __init__(self) -> None:
        self._events: list[Any] = []

    def add(self, events: Sequence[Any]) -> None:
        self._events.extend(events)

    def result(self) -> list[Any]:
        return self._events


class CountedBatch(Generic[E, P]):
    """Decoded (record, event) pairs, each record's (publisher, publication) or None, and
    `prepared`, what `preparing` made of all the events. `idempotent(event)`: an event whose
    effect counts it once however often it comes (needs no inbox claim when unnumbered)."""

    def __init__(self, preparing: Callable[[], Preparing[P]], idempotent: Callable[[E], bool]) -> None:
        self.preparing = preparing
        self.idempotent = idempotent
        self.decoded: list[tuple[ConsumerRecord, E]] = []
        self.publications: list[tuple[str, int] | None] = []
        self.lowest: dict[Key, int] = {}  # per key, the first publication number in the batch
        self.highest: dict[Key, int] = {}  # and the last: where the position moves to
        self.in_order = True  # each key's numbers rise through the batch (no repeat)
        self.claims = False  # some event is neither numbered nor idempotent: the inbox decides
        self._preparing = preparing()
        self.prepared: P

    def add(self, decoded: list[tuple[ConsumerRecord, E]]) -> None:
        """The next decoded pairs, in order."""
        lowest, highest = self.lowest, self.highest
        for record, event in decoded:
            publication = publication_of(record)
            self.publications.append(publication)
            if publication is None:
                if not self.claims and not self.idempotent(event):
                    self.claims = True
                continue
            key = (record.topic, record.partition, publication[0])
            last = highest.get(key)
            if last is None:
                lowest[key] = publication[1]
            elif publication[1] <= last:
                self.in_order = False
            highest[key] = publication[1] if last is None else max(last, publication[1])
        self.decoded.extend(decoded)
        self._preparing.add([event for _, event in decoded])

    def done(self) -> "CountedBatch[E, P]":
        self.prepared = self._preparing.result()
        return self

    def all_new(self, position: dict[Key, int]) -> bool:
        """Whether every event is new to a consumer at `position` (per key, the last number
        it applied): then `prepared` is what to apply, and `highest` where positions go."""
        return not self.claims and self.in_order and all(
            first > position[key] for key, first in self.lowest.items())

    def prepare(self, events: Sequence[E]) -> P:
        """What `preparing` makes of some of the events (those found new)."""
        preparing = self.preparing()
        preparing.add(events)
        return preparing.result()

    def part(self, decoded: list[tuple[ConsumerRecord, E]]) -> "CountedBatch[E, P]":
        """A batch of some of these pairs (applied on their own when the whole batch failed)."""
        part = CountedBatch[E, P](self.preparing, self.idempotent)
        part.add(decoded)
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
        return publisher.decode(), int(publication)
    except ValueError:
        return None  # not a number: treated as not numbered
