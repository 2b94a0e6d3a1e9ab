"""One service as its own OS process on a benchmark's scratch schema and topics:
`python -m benchmarks.serve <service> '<json: {"settings": {...}, "topics": {...}, "identity": {...}}>'`
(`identity`, optional: the OpenID Connect issuer its HTTP API trusts, as OidcSettings' fields).

Benchmarks run the measured service apart from their load generator, so that its
memory (the kernel's VmHWM, peak resident set) and CPU are the service's alone.
"""

import importlib
import json
import sys
from typing import Any

from services.runtime.identity import OidcSettings
from services.runtime.service import Service


def build(service: str, spec: dict[str, Any]) -> Service:
    config = importlib.import_module(f"services.{service}.config")
    app = importlib.import_module(f"services.{service}.app")
    kind = service.capitalize()
    settings = getattr(config, f"{kind}Settings")(**spec["settings"])
    identity = OidcSettings(**spec["identity"]) if spec.get("identity") else None
    built: Service = app.build_service(settings, getattr(config, f"{kind}Topics")(**spec["topics"]), identity=identity)
    return built


if __name__ == "__main__":
    build(sys.argv[1], json.loads(sys.argv[2])).main()
