"""The contracts as JSON Schema documents: one per command and event type, marked with its
topic. `python -m services.export` (`make contracts`) writes them to schemas/json/, beside
the services' AsyncAPI documents; schemas/compatibility.py compares them with a release."""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from schemas.catalog import CONTRACTS
from schemas.envelope import REQUIRED_ON_RECEIPT, CloudEvent, event_type_of, subject_field_of, subject_of
from schemas.examples import example
from schemas.platform import load_platform

ROOT = Path(__file__).parent

# An example `source` per writer of a topic: a service's own, or an outside system's.
_SOURCES = {"hr": "/hr/directory", "content": "/content/cms", "privacy-office": "/privacy-office/tools",
            "connector": "/connectors/linkedin", "operator": "/operators/replay"}


def json_schemas() -> dict[str, Any]:
    """{"json/<event type>.json": its JSON Schema} for every contract of every topic."""
    writers = {t.name: t.writers for t in load_platform().topics}
    return {
        f"json/{event_type_of(model)}.json": published_schema(topic, model, writers.get(topic, ()))
        for topic, models in CONTRACTS.items() for model in models
    }


def published_schema(topic: str, model: type[CloudEvent[Any]], writers: Sequence[str]) -> dict[str, Any]:
    """The model's JSON Schema with what the services enforce beyond pydantic's defaults:
    `id`, `specversion` and `type` required on receipt (envelope.check_received), the Kafka
    key (`x-kafka-key`: always the subject), what the subject is (`x-subject-is`), the `data`
    field it must equal (`x-subject-equals`, where the class declares one with `keyed_by`), example sources of
    the topic's writers, and a minimal example instance (schemas/examples.py)."""
    schema: dict[str, Any] = {"x-topic": topic, "x-kafka-key": "subject", "x-subject-is": subject_of(model),
                              **model.model_json_schema()}
    schema["required"] = [*REQUIRED_ON_RECEIPT, *(r for r in schema["required"] if r not in REQUIRED_ON_RECEIPT)]
    properties = schema["properties"]
    properties["source"] = {**properties["source"],
                            "examples": [_SOURCES.get(w, f"/advocacy/{w}") for w in writers] or ["/advocacy"]}
    properties["subject"] = {**properties["subject"], "description": f"{subject_of(model)}; the Kafka key"}
    if field := subject_field_of(model):
        schema["x-subject-equals"] = f"data.{field}"
    if topic.endswith(".commands.v1"):  # services/runtime/handling.check_received_command
        properties["time"] = {**properties["time"], "description": (
            f"{properties['time']['description']}. Required of a command on Kafka: one without it, or more "
            "than COMMAND_MAX_AGE_SECONDS (24 h) from the receiver's clock, is refused command_not_fresh")}
    schema["examples"] = [example(schema)]
    return schema


def render(document: Any) -> str:
    """A document as its file holds it: sorted keys, two-space indent, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
