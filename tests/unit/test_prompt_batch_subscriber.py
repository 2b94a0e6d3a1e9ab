"""Every batch subscriber asks Kafka again as soon as a wait came back empty (PromptBatchSubscriber):
FastStream's own slept `batch_timeout_ms` more, and a record arriving then waited for it."""

from typing import Any

import pytest
from faststream.kafka import KafkaRouter

from schemas import consent
from services.distribution.app import build_service
from services.distribution.config import DistributionSettings
from services.runtime import routing
from services.runtime.routing import PromptBatchSubscriber, ServiceRouter, prompt


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Consumer:
    """aiokafka's consumer as the subscriber sees it: `getmany` takes `waits` seconds and
    returns `fetched`."""

    def __init__(self, clock: Clock, waits: float, fetched: dict[Any, list[Any]]) -> None:
        self.clock, self.waits, self.fetched = clock, waits, fetched
        self.asked: list[tuple[int, int | None]] = []

    async def getmany(self, timeout_ms: int, max_records: int | None = None) -> dict[Any, list[Any]]:
        self.asked.append((timeout_ms, max_records))
        self.clock.now += self.waits
        return self.fetched


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(routing, "monotonic", clock.monotonic)
    monkeypatch.setattr(routing, "sleep", clock.sleep)
    return clock


def subscriber() -> PromptBatchSubscriber:
    router = ServiceRouter("svc", batch_size=7)
    router.consume("consent", "topic.consent", consent.ConsentEvent, lambda uow, event: None)  # type: ignore[arg-type, return-value]
    (made,) = router.subscribers
    assert isinstance(made, PromptBatchSubscriber)
    return made


async def test_an_empty_wait_of_the_whole_timeout_is_followed_by_the_next_at_once(clock: Clock) -> None:
    made = subscriber()
    consumer = Consumer(clock, waits=made.batch_timeout_ms / 1000, fetched={})
    assert await made.get_msg(consumer) == ()  # type: ignore[arg-type]
    assert consumer.asked == [(made.batch_timeout_ms, 7)]
    assert clock.slept == []  # FastStream's own would have slept another batch_timeout_ms here


async def test_records_are_handed_over_as_fetched(clock: Clock) -> None:
    made = subscriber()
    consumer = Consumer(clock, waits=0.003, fetched={"p0": ["a", "b"], "p1": ["c"]})
    assert await made.get_msg(consumer) == ("a", "b", "c")  # type: ignore[arg-type]
    assert clock.slept == []


async def test_an_empty_answer_before_the_timeout_waits_out_the_rest_rather_than_spin(clock: Clock) -> None:
    made = subscriber()
    consumer = Consumer(clock, waits=0.05, fetched={})
    assert await made.get_msg(consumer) == ()  # type: ignore[arg-type]
    assert clock.slept == [pytest.approx(made.batch_timeout_ms / 1000 - 0.05)]


def test_every_subscriber_of_a_service_is_prompt() -> None:
    service = build_service(DistributionSettings())
    assert service.broker.subscribers
    assert all(type(s) is PromptBatchSubscriber for s in service.broker.subscribers)


def test_only_fast_streams_batch_subscriber_is_made_prompt() -> None:
    one_at_a_time = KafkaRouter().subscriber("topic", group_id="g")
    with pytest.raises(TypeError):
        prompt(one_at_a_time)
