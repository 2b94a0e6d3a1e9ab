"""A minimal example instance of each contract, made from its published JSON Schema: every
required attribute and field, nothing optional, with values a real sender would send (an
advocate id that looks like one, a news URL, a purpose). The exported schemas carry it
(`examples`), and the tests send each one of those the outside world writes to the real
services, expecting it handled, never dead-lettered.

Values come from the field's own schema example (`examples`: a rejection's reason code, one every service gives),
else from `VALUES` by field name, else from the schema (`const`, the first `enum` value,
`format`, `minimum`, `minItems`); the subject is made of the data fields it is
(`x-subject-is`), else the aggregate id the data names."""

import re
from typing import Any

EXAMPLE_TIME = "2026-11-30T09:00:00Z"
# By field name: what a real message carries there.
VALUES: dict[str, Any] = {
    "advocate_id": "adv-00000042", "actor": "adv-00000042", "owner": "editor-00000007",
    "item_id": "item-2026-11-0001", "campaign_id": "campaign-2026-q4", "share_id": "share-00001234",
    "source_id": "source-newsroom", "report_id": "report-2026-11", "id": "item-2026-11-0001",
    "item_ids": ["item-2026-11-0001"], "language": "de", "currency": "EUR", "network": "linkedin",
    "title": "Our new plant opens in Leipzig", "text": "We are proud of our new plant in Leipzig.",
    "source_url": "https://newsroom.example.com/2026/11/leipzig", "url": "https://newsroom.example.com/feed.xml",
    "tracked_url": "https://go.example.com/r/Ab3dE5gH", "post": "We are proud of our new plant. #employee "
    "https://go.example.com/r/Ab3dE5gH", "name": "Q4 employer branding", "goal": "Awareness for the new plant",
    "note": "Please shorten the title", "reason": "Figures corrected in the source", "content_hash": "0" * 64,
    "ledger_hash": "0" * 64, "visitor": "3f1c9a7b2e4d", "topics": ["sustainability"],
    "command_type": "advocacy.consent.give.v1", "command_id": "5f0c2a1e-0000-4000-8000-000000000001",
    "html_path": "reports/report-2026-11.html", "json_path": "reports/report-2026-11.json",
    "starts_on": "2026-11-01", "ends_on": "2026-12-31", "policy_version": 1, "version": 1, "followers": 420,
    "k": 5, "added": 5, "audience_size": 20,
}
_SUBJECT_FROM = ("advocate_id", "item_id", "share_id", "campaign_id", "source_id", "report_id", "purpose", "id")


def example(schema: dict[str, Any]) -> dict[str, Any]:
    """The minimal instance of a published CloudEvents schema (schemas/export.published_schema)."""
    defs = schema.get("$defs", {})
    event = {name: _value(name, schema["properties"][name], defs) for name in schema["required"]}
    event["source"] = schema["properties"]["source"]["examples"][0]
    event["id"] = "5f0c2a1e-0000-4000-8000-000000000001"
    event["time"] = EXAMPLE_TIME  # optional in CloudEvents; a command without one is refused
    data = event["data"]
    named = re.fullmatch(r"data\.\w+(:data\.\w+)*", schema["x-subject-is"])
    event["subject"] = ":".join(str(data[f.removeprefix("data.")]) for f in schema["x-subject-is"].split(":")) \
        if named else next((str(data[f]) for f in _SUBJECT_FROM if f in data), "item-2026-11-0001")
    return event


def _value(name: str, schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    if "$ref" in schema:
        return _value(name, {**defs[schema["$ref"].rsplit("/", 1)[1]], **_without(schema, "$ref")}, defs)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "examples" in schema:  # a free-text VALUES entry of the same name would not match its pattern
        return schema["examples"][0]
    if name in VALUES:
        return VALUES[name]
    for choice in (*schema.get("anyOf", ()), *schema.get("oneOf", ())):
        if choice.get("type") != "null":
            return _value(name, choice, defs)
    kind = schema.get("type")
    if kind == "object":
        return {field: _value(field, schema["properties"][field], defs) for field in schema.get("required", ())}
    if kind == "array":
        return [_value(name, schema["items"], defs) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        return schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
    if kind == "boolean":
        return False
    return {"date-time": EXAMPLE_TIME, "date": "2026-11-30", "uri": "https://example.com/"}.get(
        schema.get("format", ""), "example")


def _without(schema: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != key}
