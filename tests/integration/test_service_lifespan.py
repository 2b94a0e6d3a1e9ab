"""A service as its process serves it (`Service.run`: uvicorn and the ASGI lifespan) is ready
only once every subscriber consumes, and a stop right after leaves nothing running.

FastStream's own lifespan reported startup complete before its broker had started its
subscribers: /ready answered 200 meanwhile, and a stop then met a subscriber still starting,
whose consumer loop was left without a consumer and restarted by FastStream's supervisor for
ever, beside an aiokafka consumer nobody stopped (a CI run on a slow host: an hour instead of
twenty minutes, nine tests timed out)."""

import asyncio

import httpx

from harness.kafka import eventually
from harness.probe import build_probe
from harness.processes import free_port
from services.runtime.routing import PromptBatchSubscriber


async def test_ready_only_once_every_subscriber_consumes_and_a_stop_then_leaves_no_loop_behind(probe, monkeypatch):
    settings = probe.settings.model_copy(update={"http_port": free_port(), "management_port": free_port()})
    service = build_probe(settings, probe.input_topic, probe.output_topic)
    start = PromptBatchSubscriber.start

    async def slow_start(subscriber: PromptBatchSubscriber) -> None:  # a slow host's consumer start
        await asyncio.sleep(1.5)
        await start(subscriber)

    monkeypatch.setattr(PromptBatchSubscriber, "start", slow_start)
    subscribers = list(service.broker.subscribers)
    running = asyncio.create_task(service.run())
    loops: list[asyncio.Task[None]] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.management_port}") as management:
            async def ready() -> bool:
                if running.done():
                    running.result()  # it failed to start: say why
                try:
                    return (await management.get("/ready")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(ready, what="the service ready")
        loops = [task for s in subscribers for task in s.tasks]
        assert subscribers and all(s.consumer is not None for s in subscribers) and loops
    finally:
        if service.server is not None:
            service.server.should_exit = True
        await running
    assert all(s.consumer is None and not s.tasks for s in subscribers)
    assert all(loop.done() for loop in loops)
