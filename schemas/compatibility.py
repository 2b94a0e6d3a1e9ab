"""Backward compatibility of contracts against the released version.

`schemas/released/<version>/` holds the JSON Schemas as released. A change is
compatible when every released event type still exists, an old message still
validates and an old reader still accepts a new message: no property removed or
retyped, no new required property, no enum value removed, no bound narrowed (a maximum,
minimum, length or pattern that refuses what the release accepted, unless listed in
`NARROWED_ON_PURPOSE` with why), and no new property in a closed model
(`additionalProperties: false`: old readers reject what they do not know).
Adding event types, enum values, or optional properties to open models is fine.
Run `python -m schemas.compatibility --release` to snapshot a new release.
"""

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from schemas import CONTRACTS_VERSION
from schemas.envelope import REQUIRED_ON_RECEIPT
from schemas.export import ROOT, json_schemas, render

RELEASED = ROOT / "released" / CONTRACTS_VERSION


def breaking_changes(released: dict[str, Any], current: dict[str, Any], where: str = "",
                     required_before: tuple[str, ...] = ()) -> list[str]:
    """What an old reader or an old message would trip over, as readable lines. Names in
    `required_before` were required by the services already, whatever the released schema
    said (the envelope's `id`, `specversion`, `type`): requiring them is no change."""
    problems = []
    old_props, new_props = released.get("properties", {}), current.get("properties", {})
    for name in old_props.keys() - new_props.keys():
        problems.append(f"{where}{name}: removed")
    if released.get("additionalProperties") is False:
        for name in new_props.keys() - old_props.keys():
            problems.append(f"{where}{name}: added to a closed model")
    for name in set(current.get("required", ())) - set(released.get("required", ())) - set(required_before):
        problems.append(f"{where}{name}: newly required")
    for name in old_props.keys() & new_props.keys():
        old, new = old_props[name], new_props[name]
        if old.get("type") != new.get("type"):
            problems.append(f"{where}{name}: type {old.get('type')} became {new.get('type')}")
        if set(old.get("enum", ())) - set(new.get("enum", old.get("enum", ()))):
            problems.append(f"{where}{name}: enum values removed")
        problems += [f"{where}{name}: {n}" for n in narrowed(old, new)]
    for name in released.get("$defs", {}).keys() & current.get("$defs", {}).keys():
        problems += breaking_changes(released["$defs"][name], current["$defs"][name], f"{where}{name}.")
    return problems


# What a bound may only loosen: a tighter one refuses values an old writer may have sent.
_LOOSER = {"maximum": max, "maxLength": max, "maxItems": max, "minimum": min, "minLength": min, "minItems": min}


def _bounds(schema: dict[str, Any]) -> dict[str, Any]:
    """A property's own bounds, and those of its one non-null choice (an optional field); an
    integer's exclusive bounds as inclusive ones (pydantic writes PositiveInt as
    exclusiveMinimum 0, `Field(ge=1)` as minimum 1: the same integers)."""
    choices = [c for c in schema.get("anyOf", ()) if c.get("type") != "null"]
    bounds = {**(choices[0] if len(choices) == 1 else {}), **schema}
    if bounds.get("type") == "integer":
        if "exclusiveMinimum" in bounds:
            above = bounds["exclusiveMinimum"] + 1
            bounds["minimum"] = max(bounds.get("minimum", above), above)
        if "exclusiveMaximum" in bounds:
            below = bounds["exclusiveMaximum"] - 1
            bounds["maximum"] = min(bounds.get("maximum", below), below)
    return bounds


def narrowed(released: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """The bounds of a property that refuse what the released one accepted: a maximum or
    length lowered or added, a minimum raised or added, a pattern added or changed (unless
    every value the released property allowed, its `const` or `enum`, matches it)."""
    old, new = _bounds(released), _bounds(current)
    problems = [f"{key} narrowed" for key, looser in _LOOSER.items()
                if key in new and (key not in old or looser(old[key], new[key]) != new[key])]
    if "pattern" in new and new["pattern"] != old.get("pattern"):
        allowed = [old["const"]] if "const" in old else old.get("enum")
        if not allowed or not all(re.search(new["pattern"], str(value)) for value in allowed):
            problems.append("pattern narrowed")
    return problems


# Narrowed knowingly, each where what it now refuses could not be stored before either (the
# store's integer or its btree row) or was no campaign id curation makes (ADR 0037).
NARROWED_ON_PURPOSE = {
    **{f"{model}.{field}: maximum narrowed": "the store's integer"
       for model, field in (("ConsentRecord", "policy_version"), ("Choice", "policy_version"),
                            ("PolicyText", "version"), ("PolicyVersion", "version"), ("Followers", "followers"))},
    **{f"Engagement.{counter}: maximum narrowed": "I-JSON's 2**53 - 1; the store's bigint"
       for counter in ("impressions", "reactions", "comments", "reshares")},
    "Click.visitor: maxLength narrowed": "the btree row of the click table's key",
    "Click.visitor: minLength narrowed": "a visitor hash is never empty",
    "Click.campaign_id: pattern narrowed": "curation's campaign id, where every one comes from",
    "Share.campaign_id: pattern narrowed": "curation's campaign id, where every one comes from",
}


def check(released_dir: Path = RELEASED) -> list[str]:
    current = {name.removeprefix("json/"): doc for name, doc in json_schemas().items()}
    problems = []
    for path in sorted(released_dir.glob("*.json")):
        if path.name not in current:
            problems.append(f"{path.stem}: event type removed")
            continue
        problems += [f"{path.stem}: {p}" for p in breaking_changes(json.loads(path.read_text()), current[path.name],
                                                                      required_before=REQUIRED_ON_RECEIPT)
                     if p not in NARROWED_ON_PURPOSE]
    return problems


def release() -> None:
    shutil.rmtree(RELEASED, ignore_errors=True)
    RELEASED.mkdir(parents=True)
    for name, document in json_schemas().items():
        (RELEASED / name.removeprefix("json/")).write_text(render(document))


if __name__ == "__main__":
    if "--release" in sys.argv:
        release()
    else:
        for line in check():
            print(line)
