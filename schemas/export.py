"""Write the contracts as files: `python -m schemas.export` (or `--check` to only compare).

- schemas/json/<event type>.json: the JSON Schema of each command and event;
- schemas/asyncapi/<service>.json: each service's AsyncAPI document, as FastStream
  generates it from the service's subscribers and publishers;
- schemas/openapi/<service>.json: the OpenAPI document of each service that mounts an HTTP
  API (`Service.mount_api`), as FastAPI generates it (services/runtime/api/openapi.py).
"""

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from pydantic import TypeAdapter

from schemas.catalog import CONTRACTS, SERVICES
from schemas.envelope import event_type_of

if TYPE_CHECKING:
    from services.runtime.api import HttpApi

ROOT = Path(__file__).parent


def json_schemas() -> dict[str, Any]:
    return {
        f"json/{event_type_of(model)}.json": {"x-topic": topic, **model.model_json_schema()}
        for topic, models in CONTRACTS.items() for model in models
    }


def asyncapi_documents() -> dict[str, Any]:
    documents = {}
    for service in SERVICES:
        app = importlib.import_module(f"services.{service}.app").app
        document = app.schema.to_specification().to_jsonable()
        # Where the broker runs is deployment, not contract: leave servers out.
        document.pop("servers", None)
        for channel in document.get("channels", {}).values():
            channel.pop("servers", None)
        _describe_batches(document)
        documents[f"asyncapi/{service}.json"] = document
    return documents


def openapi_documents() -> dict[str, Any]:
    documents = {}
    for service in SERVICES:
        api = importlib.import_module(f"services.{service}.app").service.api
        if api is not None:
            documents[f"openapi/{service}.json"] = api.openapi()
    return documents


def write_openapi(service: str, api: "HttpApi", root: Path = ROOT) -> Path:
    """Write one service's OpenAPI document alone, leaving the other contracts as they are."""
    path = root / "openapi" / f"{service}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(render(api.openapi()))
    return path


_RAW_RECORDS = {"format": "binary", "type": "string"}


def _describe_batches(document: dict[str, Any]) -> None:
    """FastStream documents a batch subscriber's payload as an array of raw records; each
    record is one of the topic's contracts (the inbox validates it alone), so say that."""
    schemas = document.get("components", {}).get("schemas", {})
    for title, channel in document.get("channels", {}).items():
        name = f"{title}:Message:Payload"
        if schemas.get(name, {}).get("items") != _RAW_RECORDS:
            continue
        models = tuple(CONTRACTS[channel["address"]])
        # Names prefixed with the channel's, as FastStream does: two topics may each have a
        # model of the same name (curation's and distribution's CommandRejected).
        union = TypeAdapter(Union[models]).json_schema(  # noqa: UP007
            ref_template=f"#/components/schemas/{title}:{{model}}")
        schemas.update({f"{title}:{key}": definition for key, definition in union.pop("$defs", {}).items()})
        schemas[name] = {"title": name, **union}


def render(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


FOLDERS = ("json", "asyncapi", "openapi")


def documents() -> dict[str, Any]:
    return {**json_schemas(), **asyncapi_documents(), **openapi_documents()}


def stale_files(root: Path = ROOT) -> list[str]:
    """Files that differ from what the code generates now (or are missing, or left over)."""
    expected = documents()
    stale = [name for name, doc in expected.items()
             if not (root / name).exists() or (root / name).read_text() != render(doc)]
    present = {str(p.relative_to(root)) for folder in FOLDERS for p in (root / folder).glob("*.json")}
    return sorted(stale + list(present - set(expected)))


def write(root: Path = ROOT) -> None:
    generated = documents()  # all of it first: a failure deletes nothing
    for folder in FOLDERS:
        (root / folder).mkdir(exist_ok=True)
        for old in (root / folder).glob("*.json"):
            old.unlink()
    for name, document in generated.items():
        (root / name).write_text(render(document))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report stale files; exit 1 if any")
    if parser.parse_args().check:
        stale = stale_files()
        for name in stale:
            print(f"stale: schemas/{name}")
        return 1 if stale else 0
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
