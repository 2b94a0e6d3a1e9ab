"""HTTP endpoints of every service: /health (alive), /ready (broker and database
answer, relay running) and /metrics (Prometheus)."""

from collections.abc import Awaitable, Callable

from faststream.asgi import AsgiResponse, get
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import ASGIApp
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

Check = Callable[[], Awaitable[bool]]


def health_routes(checks: dict[str, Check]) -> list[tuple[str, ASGIApp]]:
    @get(include_in_schema=False)
    async def health(scope: object) -> AsgiResponse:
        return JSONResponse({"status": "alive"})

    @get(include_in_schema=False)
    async def ready(scope: object) -> AsgiResponse:
        results = {}
        for name, check in checks.items():
            try:
                results[name] = await check()
            except Exception:
                results[name] = False
        status = 200 if all(results.values()) else 503
        return JSONResponse({"ready": status == 200, "checks": results}, status_code=status)

    @get(include_in_schema=False)
    async def metrics(scope: object) -> AsgiResponse:
        return AsgiResponse(generate_latest(), 200, {"Content-Type": CONTENT_TYPE_LATEST})

    return [("/health", health), ("/ready", ready), ("/metrics", metrics)]
