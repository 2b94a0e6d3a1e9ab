"""What signing in costs a request once the issuer's keys are cached:
`python -m benchmarks.token_verification [--tokens N]`.

- `Authenticator.principal` alone, per token (RS256 with a 2048-bit key, as Keycloak signs
  by default, and ES256), each token different (nothing cached per token);
- a whole request through the HTTP API in process (ASGI, no network), with and without the
  `SignedIn` dependency: the difference is what verification adds to a request.

Target (issue #15): at most 1 ms per request with cached keys.
"""

import argparse
import asyncio
import statistics
import time

import httpx
from fastapi import APIRouter

from harness.issuer import TestIssuer
from services.runtime.api import HttpApi, SignedIn
from services.runtime.identity import Authenticator
from services.runtime.settings import ServiceSettings


def summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {"p50_us": round(statistics.median(ordered) * 1e6, 1),
            "p99_us": round(ordered[int(len(ordered) * 0.99) - 1] * 1e6, 1)}


async def verify_each(authenticator: Authenticator, tokens: list[str]) -> list[float]:
    times = []
    for token in tokens:
        started = time.perf_counter()
        await authenticator.principal(token)
        times.append(time.perf_counter() - started)
    return times


async def paired_requests(client: httpx.AsyncClient, tokens: list[str]) -> tuple[list[float], list[float]]:
    """The same request to a route that signs in and to one that does not, alternately (so
    that whatever else the machine does weighs on both alike)."""
    open_: list[float] = []
    signed_in: list[float] = []
    for token in tokens:
        for path, times in (("/api/open", open_), ("/api/signed-in", signed_in)):
            started = time.perf_counter()
            response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    return open_, signed_in


async def measure(tokens: int = 5000) -> dict[str, float]:
    with TestIssuer() as issuer:
        authenticator = Authenticator(issuer.settings())
        await authenticator.keys.refresh()
        rs256 = [issuer.token(f"adv-{n:06d}") for n in range(tokens)]
        es256 = [issuer.token(f"adv-{n:06d}", key=issuer.ec) for n in range(tokens)]
        await verify_each(authenticator, rs256[:200])  # warm up
        results = {f"token_verify_rs256_{k}": v for k, v in summary(await verify_each(authenticator, rs256)).items()}
        results |= {f"token_verify_es256_{k}": v for k, v in summary(await verify_each(authenticator, es256)).items()}

        router = APIRouter()

        @router.get("/open")
        async def open_() -> dict[str, str]:
            return {}

        @router.get("/signed-in")
        async def signed_in(me: SignedIn) -> dict[str, str]:
            return {}

        api = HttpApi(ServiceSettings(service="bench", http_port=1), router, authenticator=authenticator)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://bench") as client:
            await paired_requests(client, rs256[:200])
            without, with_ = map(summary, await paired_requests(client, rs256))
        results["request_without_sign_in_p50_us"] = without["p50_us"]
        results["request_overhead_of_sign_in_p50_us"] = round(with_["p50_us"] - without["p50_us"], 1)
        results["request_overhead_of_sign_in_p99_us"] = round(with_["p99_us"] - without["p99_us"], 1)
        await authenticator.aclose()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=5000)
    for key, value in asyncio.run(measure(parser.parse_args().tokens)).items():
        print(f"{key:<40} {value:>8} µs")


if __name__ == "__main__":
    main()
