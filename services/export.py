"""Write what is generated from the contracts and the services: `python -m services.export`
(`make contracts`), or `--check` to only compare.

- schemas/json/<event type>.json: the JSON Schema of each command and event (schemas/export.py);
- schemas/asyncapi/<service>.json: each service's AsyncAPI document, as FastStream
  generates it from the subscribers and publishers its app.py declares;
- schemas/openapi/<service>.json: the OpenAPI document of each service's HTTP API;
- README.md's tables of Kafka principals and topics, from schemas/platform.toml, and of
  rejection reasons, from each service's `Reason` (schemas/).

It sits above the services (it loads their apps), so nothing below imports it.
"""

import argparse
import importlib
import re
import sys
from pathlib import Path
from typing import Any, Union, cast

from pydantic import TypeAdapter

from schemas import consent, curation, distribution, metrics
from schemas.catalog import CONTRACTS, SERVICES
from schemas.commands import CommandReason, RefusalReason
from schemas.envelope import event_type_of, subject_of
from schemas.export import ROOT, json_schemas, render
from schemas.platform import load_platform
from services.runtime.dead_letters import DEAD_LETTER_HEADERS, SOMETIMES_HEADERS

README = ROOT.parent / "README.md"
_REASONS: dict[str, type[RefusalReason]] = {
    "consent": consent.Reason, "curation": curation.Reason, "distribution": distribution.Reason,
    "metrics": metrics.Reason, "every service, on Kafka": CommandReason,
}


def asyncapi_documents() -> dict[str, Any]:
    """{"asyncapi/<service>.json": its AsyncAPI 3.0 document} for every service."""
    documents = {}
    for service in SERVICES:
        app = importlib.import_module(f"services.{service}.app").app
        document = app.schema.to_specification().to_jsonable()
        # Where the broker runs is deployment, not contract: leave servers out.
        document.pop("servers", None)
        for channel in document.get("channels", {}).values():
            channel.pop("servers", None)
        _describe_batches(document)
        _describe_the_wire(document)
        _add_dead_letters(document, service)
        documents[f"asyncapi/{service}.json"] = document
    return documents


def openapi_documents() -> dict[str, Any]:
    """{"openapi/<service>.json": its OpenAPI 3.1 document} for every service with an HTTP API."""
    documents = {}
    for service in SERVICES:
        api = importlib.import_module(f"services.{service}.app").service.api
        if api is not None:
            documents[f"openapi/{service}.json"] = api.openapi()
    return documents


def _describe_batches(document: dict[str, Any]) -> None:
    """FastStream documents a batch subscriber's payload, its aiokafka records handed over
    undecoded (`records: Any`, routing.py), as a schema of nothing but a title; each
    record is one of the topic's contracts (the inbox validates it alone), so say that."""
    schemas = document.get("components", {}).get("schemas", {})
    for title, channel in document.get("channels", {}).items():
        name = f"{title}:Message:Payload"
        if schemas.get(name) != {"title": name}:
            continue
        models = tuple(CONTRACTS[channel["address"]])
        # Names prefixed with the channel's, as FastStream does: two topics may each have a
        # model of the same name.
        union = TypeAdapter[Any](cast(Any, Union[models])).json_schema(  # noqa: UP007
            ref_template=f"#/components/schemas/{title}:{{model}}")
        schemas.update({f"{title}:{key}": definition for key, definition in union.pop("$defs", {}).items()})
        schemas[name] = {"title": name, **union}


def _describe_the_wire(document: dict[str, Any]) -> None:
    """What FastStream cannot know: the correlation id is the CloudEvents attribute in the
    body (not a header), and the record key is the event's subject."""
    for message in document.get("components", {}).get("messages", {}).values():
        message["correlationId"] = {
            "location": "$message.payload#/correlationid",
            "description": "CloudEvents extension attribute: the id of the request or event that started "
                           "the chain this event belongs to (absent when it started one)"}
        message["bindings"] = {"kafka": {"bindingVersion": "0.4.0", "key": {
            "type": "string", "description": "The event's `subject` (UTF-8): the aggregate it is about, so "
                                             "that order holds per aggregate"}}}


def _add_dead_letters(document: dict[str, Any], service: str) -> None:
    """The service's dead-letter topic: records it could not decode, validate or handle, with
    the reason in headers (services/runtime/dead_letters.py)."""
    name = f"{service}:deadletter"
    document["channels"][name] = {
        "address": f"advocacy.{service}.deadletter.v1",
        "description": "Records this service could not decode, validate or handle, with the reason in headers. "
                       "Read and replayed by operators (`advocacy dead-letters`).",
        "bindings": {"kafka": {"bindingVersion": "0.4.0", "topic": f"advocacy.{service}.deadletter.v1"}},
        "messages": {"DeadLetter": {"$ref": f"#/components/messages/{name}:DeadLetter"}}}
    document["components"]["messages"][f"{name}:DeadLetter"] = {
        "title": f"{name}:DeadLetter",
        "summary": "The original record's headers and the reason; its key and value too, unless it came from a "
                   "topic about people (`dlq-value-omitted` says so: ADR 0018)",
        "headers": {"type": "object", "required": sorted(DEAD_LETTER_HEADERS),
                    "properties": {h: {"type": "string", "description": d}
                                   for h, d in {**DEAD_LETTER_HEADERS, **SOMETIMES_HEADERS}.items()}},
        "payload": {"description": "The original record's value, byte for byte; none when "
                                   "`dlq-value-omitted` says why"},
        "bindings": {"kafka": {"bindingVersion": "0.4.0", "key": {
            "type": "string", "description": "The original record's key; none with `dlq-value-omitted`"}}}}
    document["operations"][name] = {
        "action": "send", "channel": {"$ref": f"#/channels/{name}"},
        "messages": [{"$ref": f"#/channels/{name}/messages/DeadLetter"}]}


def principals_table() -> str:
    """The README's table of who logs in to Kafka from outside, and what each may do."""
    platform = load_platform()
    rows = []
    for name, description in platform.principals.items():
        writes = [f"`{t.name}`" for t in platform.topics if name in t.writers]
        reads = [f"`{t.name}`" for t in platform.topics if name in t.readers]
        rows.append(f"| `{name}` | {description} | {', '.join(writes) or '—'} | {', '.join(reads) or '—'} |")
    return "\n".join(["| principal | who | writes | reads |", "|---|---|---|---|", *rows])


def topics_table() -> str:
    """The README's table of topics, as schemas/platform.toml declares them; the services'
    dead-letter topics in one row."""
    platform = load_platform()
    rows = []
    for t in platform.topics:
        if t.name.endswith(".deadletter.v1"):
            continue
        retention = "—" if "compact" in t.cleanup_policy else f"{t.retention_days} d"
        writers = ", ".join(t.writers) or "nobody (the front door takes these commands)"
        personal = "yes" if t.personal else "no"
        key = topic_key(t.name) if t.name in CONTRACTS else t.key
        rows.append(f"| `{t.name}` | {key} | {t.partitions} | {retention} | {t.cleanup_policy} | "
                    f"{personal} | {writers} | {', '.join(t.readers) or 'nobody yet (the platform only)'} |")
    dead = next(t for t in platform.topics if t.name.endswith(".deadletter.v1"))
    rows.append(f"| `advocacy.<service>.deadletter.v1` (one per service) | {dead.key} | {dead.partitions} | "
                f"{dead.retention_days} d | {dead.cleanup_policy} | no: headers only (key and value only from a "
                f"topic that is not) | that service | {', '.join(dead.readers)} |")
    return "\n".join(["| topic | key | partitions | retention | cleanup | about a person | written by | read by |",
                      "|---|---|---|---|---|---|---|---|", *rows])


def topic_key(topic: str) -> str:
    """What the records of `topic` are keyed by, from its contracts' subjects
    (envelope.subject_of): one key, or each key with the event types it keys, a family of
    types (`item.*`) where all of that family's share it; a type no longer emitted is marked so."""
    by_key: dict[str, list[str]] = {}
    short = {model: re.sub(r"^advocacy\.[a-z]+\.|\.v\d+$", "", event_type_of(model))
             + (" (no longer emitted)" if model.no_longer_emitted else "") for model in CONTRACTS[topic]}
    for model, name in short.items():
        by_key.setdefault(subject_of(model), []).append(name)
    if len(by_key) == 1:
        return f"{next(iter(by_key))}"
    families: dict[str, set[str]] = {}
    for key, names in by_key.items():
        for name in names:
            families.setdefault(name.split(".")[0], set()).add(key)
    parts = []
    for key, names in by_key.items():
        shown = sorted({f"{n.split('.')[0]}.*" if len(families[n.split(".")[0]]) == 1
                        and sum(m.split(".")[0] == n.split(".")[0] for m in short.values()) > 1 else n
                        for n in names})
        parts.append(f"{key}: {', '.join(shown)}")
    return "; ".join(parts)


def reasons_table() -> str:
    """The README's table: every service's rejection reasons and when each is given."""
    rows = [f"| {service} | `{reason.value}` | {reason.when} |"
            for service, reasons in _REASONS.items() for reason in reasons]
    return "\n".join(["| service | reason | when |", "|---|---|---|", *rows])


# README's generated tables, each between its two markers.
_TABLES = {"principals": principals_table, "topics": topics_table, "rejection reasons": reasons_table}


def readme_with_tables(text: str) -> str:
    """README.md's text with each generated table between its markers made anew."""
    for name, table in _TABLES.items():
        begin, end = f"<!-- {name}: generated by `make contracts` -->", f"<!-- end of {name} -->"
        found = re.search(re.escape(begin) + ".*?" + re.escape(end), text, re.S)
        if found is None:
            raise ValueError(f"README.md has no {begin} … {end} markers")
        text = f"{text[:found.start()]}{begin}\n{table()}\n{end}{text[found.end():]}"
    return text


FOLDERS = ("json", "asyncapi", "openapi")


def documents() -> dict[str, Any]:
    """Every generated document under schemas/, by its path there."""
    return {**json_schemas(), **asyncapi_documents(), **openapi_documents()}


def stale_files(root: Path = ROOT, readme: Path = README) -> list[str]:
    """Files that differ from what the code generates now (or are missing, or left over)."""
    expected = documents()
    stale = [f"schemas/{name}" for name, doc in expected.items()
             if not (root / name).exists() or (root / name).read_text() != render(doc)]
    present = {str(p.relative_to(root)) for folder in FOLDERS for p in (root / folder).glob("*.json")}
    stale += [f"schemas/{name}" for name in present - set(expected)]
    if readme.read_text() != readme_with_tables(readme.read_text()):
        stale.append("README.md")
    return sorted(stale)


def write(root: Path = ROOT, readme: Path = README) -> None:
    generated = documents()  # all of it first: a failure deletes nothing
    for folder in FOLDERS:
        (root / folder).mkdir(exist_ok=True)
        for old in (root / folder).glob("*.json"):
            old.unlink()
    for name, document in generated.items():
        (root / name).write_text(render(document))
    readme.write_text(readme_with_tables(readme.read_text()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report stale files; exit 1 if any")
    if parser.parse_args().check:
        stale = stale_files()
        for name in stale:
            print(f"stale: {name}")
        return 1 if stale else 0
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
