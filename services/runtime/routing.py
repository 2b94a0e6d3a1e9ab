"""How a service subscribes: at-least-once delivery, a consumer group per subscriber,
every message decoded as a CloudEvent in structured JSON mode, and every subscriber
handing its records to the inbox in batches.

A service declares all its subscribers in one place, its `app.py`:

    router = ServiceRouter("consent", batch_size=settings.event_batch_size)
    router.consume("commands", topics.commands, c.ConsentCommand, answering(handlers.commands, ...))
    router.consume("directory", topics.directory, d.DirectoryEvent, dispatch(handlers.directory))
    router.publishes("events", topics.events, c.ConsentEvent)
"""

import json
from asyncio import sleep
from collections.abc import Awaitable, Callable
from itertools import chain
from time import monotonic
from typing import TYPE_CHECKING, Any, TypeVar, cast

from faststream import AckPolicy, StreamMessage
from faststream.exceptions import NackMessage
from faststream.kafka import KafkaRouter
from faststream.kafka.subscriber.usecase import BatchSubscriber
from pydantic import TypeAdapter

from schemas.envelope import check_received
from services.runtime.counted_batch import Listing, Preparing
from services.runtime.handling import Handler, dispatch
from services.runtime.inbox import Inbox
from services.runtime.pipelined import PipelinedSubscriber
from services.runtime.unit_of_work import UnitOfWork

P = TypeVar("P")  # what a counted topic's `preparing` makes of a batch, and its handler takes

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer, ConsumerRecord

BatchHandler = Callable[[UnitOfWork, list[Any]], Awaitable[None]]


async def decode_json(message: StreamMessage[Any]) -> Any:
    """Every message is a CloudEvent in structured JSON mode, whatever its content-type
    header says (FastStream would hand `application/cloudevents+json` over as bytes).
    A batch is handed over as its aiokafka records, undecoded: the inbox decodes each
    record (a bad one is dead-lettered alone instead of sinking its batch) and needs each
    one's topic, partition, key and headers."""
    if isinstance(message.body, list):
        return message.raw_message
    body = json.loads(message.body)
    if isinstance(body, dict):
        check_received(body)
    return body


async def _documented_only(records: Any) -> None:
    raise RuntimeError("a subscriber declared for the AsyncAPI document only is never started")


class PromptBatchSubscriber(BatchSubscriber):
    """FastStream's batch subscriber without its deaf spell. FastStream's waits up to
    `batch_timeout_ms` (200 ms) for records and, when none came, sleeps as long again
    before it asks: a record arriving then waits up to 200 ms, half the idle time. That
    was most of the way from a person's yes to their backfilled feed beyond the SQL
    (docs/performance-log.md, "The backfill's whole path, explained"), and every idle
    subscriber's first record paid it (a withdrawal's too). Here the next wait starts at
    once: aiokafka's `getmany` already waits the whole timeout when nothing comes and
    returns as soon as a record is fetched, so nothing spins; should it ever come back
    early and empty, the rest of the timeout is slept, never more."""

    __slots__ = ()

    async def get_msg(self, consumer: "AIOKafkaConsumer") -> tuple["ConsumerRecord", ...]:
        """The records fetched within `batch_timeout_ms` (up to `max_records`); () if none."""
        started = monotonic()
        fetched = await consumer.getmany(timeout_ms=self.batch_timeout_ms, max_records=self.max_records)
        if not fetched and (left := self.batch_timeout_ms / 1000 - (monotonic() - started)) > 0:
            await sleep(left)
        return tuple(chain(*fetched.values()))


def prompt(subscriber: Any) -> PromptBatchSubscriber:
    """`subscriber` (FastStream's BatchSubscriber, as `KafkaRouter.subscriber(batch=True)`
    makes it) as a PromptBatchSubscriber: FastStream offers no way to choose the class, and
    the subclass adds no state. Raises TypeError for anything else, so that a FastStream
    that builds batch subscribers otherwise is noticed here rather than silently slow."""
    if type(subscriber) is not BatchSubscriber:
        raise TypeError(f"expected FastStream's BatchSubscriber, got {type(subscriber).__name__}")
    subscriber.__class__ = PromptBatchSubscriber
    return cast(PromptBatchSubscriber, subscriber)


class ServiceRouter(KafkaRouter):
    """A service's subscribers, each at-least-once and in a consumer group of its own
    (`<service>.<topic>`): FastStream runs one consumer per subscriber, and sharing one group
    would make every subscriber's join rebalance all the others."""

    def __init__(self, service: str, batch_size: int = 100, **options: Any) -> None:
        super().__init__(**options)
        self.service = service
        self.batch_size = batch_size
        self.pipelined: list[PipelinedSubscriber] = []  # consumers of our own (consume_counted), run by Service
        self.inbox: Inbox | None = None  # set by Service.start, before any subscriber consumes
        self.documented = KafkaRouter()  # their subscribers as FastStream documents them; never started

    def _started(self) -> Inbox:
        """The inbox Service.start set; before it, the batch is nacked (fetched again). Not
        FastStream's `Context()`: fast_depends resolves each such parameter in a worker thread
        (`Context.use` is synchronous, so `run_async` sends it to anyio's thread pool), 160 µs
        of CPU and 240 of waiting per parameter per batch on this host."""
        if self.inbox is None:  # the broker started without the service (`faststream run`?): back to Kafka
            raise NackMessage()  # not an error the dead-letter middleware would take the batch for
        return self.inbox

    def _subscribe(self, name: str, topic: str, max_records: int | None,
                   on_batch: Callable[..., Awaitable[None]]) -> None:
        """`on_batch` as the subscriber of `topic`: at-least-once (acked only after it returned),
        in the consumer group `<service>.<topic>`, from the earliest offset (a new group must
        not skip history), up to `max_records` records a batch, handed over as soon as fetched
        (PromptBatchSubscriber)."""
        prompt(self.subscriber(
            topic, title=f"{self.service}:{name}", batch=True, max_records=max_records or self.batch_size,
            group_id=f"{self.service}.{topic}", auto_offset_reset="earliest", ack_policy=AckPolicy.NACK_ON_ERROR,
        ))(on_batch)

    def consume(self, name: str, topic: str, contracts: Any, handler: Handler, max_records: int | None = None,
                defer_writes: bool = False) -> None:
        """Subscribe `handler(uow, event)` to `topic`, whose messages are one of `contracts`
        (a type or a discriminated union). Up to `max_records` (default: the router's batch
        size) records share one transaction and one offset commit; each is decoded on its
        own (a bad one is dead-lettered alone) and applied once (`Inbox.handle_each_once`,
        which also says what `defer_writes` asks of the handler); with a `dispatch` handler,
        events of types it has no handler for are skipped without keeping their ids."""
        decoder = TypeAdapter[Any](contracts)

        wanted = handler.handles if isinstance(handler, dispatch) else None

        async def on_records(records: Any) -> None:
            await self._started().handle_each_once(records, decoder, handler, wanted=wanted,
                                                   defer_writes=defer_writes)

        self._subscribe(name, topic, max_records, on_records)

    def consume_batches(self, name: str, topic: str, contracts: Any, handler: BatchHandler,
                        max_records: int | None = None, idempotent: Callable[[Any], bool] | None = None) -> None:
        """Like `consume`, but `handler(uow, events)` takes the whole batch's new events at once
        (`Inbox.handle_batch_once`): for counting, where many events touch one row. With
        `idempotent` (which events' effects count them once however often they come), no
        event keeps a row in the inbox unless it is neither that nor numbered by its
        publisher's relay (`Inbox.handle_batch_counted`, ADR 0021)."""
        decoder = TypeAdapter[Any](contracts)

        async def on_batch(records: Any) -> None:
            inbox = self._started()
            if idempotent is None:
                await inbox.handle_batch_once(records, decoder, handler)
            else:
                await inbox.handle_batch_counted(records, decoder, handler, idempotent, Listing)

        self._subscribe(name, topic, max_records, on_batch)

    def consume_counted(self, name: str, topic: str, contracts: Any, preparing: Callable[[], Preparing[P]],
                        handler: Callable[[UnitOfWork, P], Awaitable[None]], idempotent: Callable[[Any], bool],
                        max_records: int | None = None) -> None:
        """Like `consume_batches` with `idempotent`, in a consumer loop of our own that decodes
        the next batch while this one's transaction commits (services/runtime/pipelined.py,
        ADR 0026): for the busiest topics. The same group, dead letters and deduplication.
        `handler(uow, prepared)` gets what `preparing` made of the batch's new events, worked
        out as they were decoded (services/runtime/counted_batch.py)."""
        # Documented as FastStream would document the subscriber (AsyncAPI), never started.
        self.documented.subscriber(
            topic, title=f"{self.service}:{name}", batch=True, max_records=max_records or self.batch_size,
            group_id=f"{self.service}.{topic}", auto_offset_reset="earliest", ack_policy=AckPolicy.NACK_ON_ERROR,
        )(_documented_only)
        self.pipelined.append(PipelinedSubscriber(
            f"{self.service}:{name}", topic, f"{self.service}.{topic}", contracts, preparing, handler, idempotent,
            max_records or self.batch_size))

    def publishes(self, name: str, topic: str, contracts: Any, description: str | None = None) -> None:
        """Declare what the service publishes on `topic` (through its outbox relay, not this
        router), so that its AsyncAPI document shows it."""
        self.publisher(topic, title=f"{self.service}:{name}", schema=contracts, description=description)

