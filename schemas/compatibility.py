"""Backward compatibility of contracts against the released version.

`schemas/released/<version>/` holds the JSON Schemas as released. A change is
compatible when every released event type still exists, an old message still
validates and an old reader still accepts a new message: no property removed or
retyped, no new required property, no enum value removed, and no new property in a
closed model (`additionalProperties: false`: old readers reject what they do not know).
Adding event types, enum values, or optional properties to open models is fine.
Run `python -m schemas.compatibility --release` to snapshot a new release.
"""

import json
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
    for name in released.get("$defs", {}).keys() & current.get("$defs", {}).keys():
        problems += breaking_changes(released["$defs"][name], current["$defs"][name], f"{where}{name}.")
    return problems


def check(released_dir: Path = RELEASED) -> list[str]:
    current = {name.removeprefix("json/"): doc for name, doc in json_schemas().items()}
    problems = []
    for path in sorted(released_dir.glob("*.json")):
        if path.name not in current:
            problems.append(f"{path.stem}: event type removed")
            continue
        problems += [f"{path.stem}: {p}" for p in breaking_changes(json.loads(path.read_text()), current[path.name],
                                                                      required_before=REQUIRED_ON_RECEIPT)]
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
