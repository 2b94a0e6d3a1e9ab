"""The contracts as JSON Schema documents: one per command and event type, marked with its
topic. `python -m services.export` (`make contracts`) writes them to schemas/json/, beside
the services' AsyncAPI documents; schemas/compatibility.py compares them with a release."""

import json
from pathlib import Path
from typing import Any

from schemas.catalog import CONTRACTS
from schemas.envelope import event_type_of

ROOT = Path(__file__).parent


def json_schemas() -> dict[str, Any]:
    """{"json/<event type>.json": its JSON Schema} for every contract of every topic."""
    return {
        f"json/{event_type_of(model)}.json": {"x-topic": topic, **model.model_json_schema()}
        for topic, models in CONTRACTS.items() for model in models
    }


def render(document: Any) -> str:
    """A document as its file holds it: sorted keys, two-space indent, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
