"""A service's batch subscribers take their records and the inbox without FastStream's
`Context()` (resolved in a worker thread per batch): the decoder hands a batch over as its
records, and the router holds the inbox the service started with."""

from typing import Any

import pytest
from faststream.exceptions import NackMessage

from schemas import consent
from services.runtime.routing import ServiceRouter, decode_json


class Batch:
    """FastStream's StreamMessage of a batch, as the decoder sees it."""

    def __init__(self, records: tuple[Any, ...]) -> None:
        self.raw_message = records
        self.body = [b"{}" for _ in records]


class Inbox:
    def __init__(self) -> None:
        self.handed: list[Any] = []

    async def handle_each_once(self, records: Any, decoder: Any, handler: Any, wanted: Any = None,
                               defer_writes: bool = False) -> int:
        self.handed.append(records)
        return len(records)


def on_records(router: ServiceRouter) -> Any:
    router.consume("consent", "topic.consent", consent.ConsentEvent, lambda uow, event: None)  # type: ignore[arg-type, return-value]
    (subscriber,) = router.subscribers
    return subscriber.calls[0].handler._original_call  # the function app.py's subscriber runs


async def test_a_batch_is_handed_over_as_its_records_undecoded() -> None:
    records = (object(), object())
    assert await decode_json(Batch(records)) is records  # type: ignore[arg-type]


async def test_the_records_go_to_the_inbox_the_service_started_with() -> None:
    router, inbox = ServiceRouter("svc"), Inbox()
    handle = on_records(router)
    router.inbox = inbox  # type: ignore[assignment]  # as Service.start sets it
    records = (object(),)
    await handle(records)
    assert inbox.handed == [records]


async def test_a_batch_before_the_service_started_goes_back_to_kafka_not_to_dead_letters() -> None:
    """A broker started without the service (no inbox yet): nacked, which the dead-letter
    middleware leaves alone (a FastStream HandlerException), so the records come again."""
    handle = on_records(ServiceRouter("svc"))
    with pytest.raises(NackMessage):
        await handle((object(),))
