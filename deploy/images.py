"""Container images of the deployments, pinned to exact releases.

Kafka's tag is the version the local stack runs (deploy/local/pom.xml), so a laptop on
compose and a laptop on `make run` run the same broker; the platform's own image carries
the package version of pyproject.toml.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POSTGRES_IMAGE = "postgres:15.14-bookworm"  # the major version the local stack is tested on (README)


def kafka_version() -> str:
    pom = (REPO / "deploy" / "local" / "pom.xml").read_text()
    return re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom).group(1)


def kafka_image() -> str:
    return f"apache/kafka:{kafka_version()}"


def app_image() -> str:
    with open(REPO / "pyproject.toml", "rb") as f:
        return f"advocacy:{tomllib.load(f)['project']['version']}"
