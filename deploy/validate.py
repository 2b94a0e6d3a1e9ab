"""Offline validation of the deployment manifests against the schemas kept in deploy/schemas/.

No cluster and no Docker engine needed: Kubernetes kinds are checked against the
Kubernetes OpenAPI (strict: unknown fields are errors), Strimzi and KEDA resources against
their CRDs' openAPIV3Schema (made strict here the same way), the compose file against
the compose specification. deploy/schemas/README.md says where each schema came from.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).with_name("schemas")


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text())


def _strict(node: Any) -> Any:
    """A CRD schema lets unknown fields through (the API server prunes them silently);
    we want a misspelt field to fail, so every object that lists its properties gets
    additionalProperties: false unless the CRD keeps unknown fields on purpose."""
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items()}
    if "properties" in out and "additionalProperties" not in out \
            and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


@cache
def _validator(api_version: str, kind: str) -> Draft202012Validator:
    key = f"{api_version}/{kind}"
    kubernetes = _load("kubernetes.json")
    if key in kubernetes["kinds"]:
        schema = {"$defs": kubernetes["$defs"], "$ref": f"#/$defs/{kubernetes['kinds'][key]}"}
        return Draft202012Validator(schema)
    for crds in ("strimzi.json", "keda.json"):
        if key in _load(crds):
            crd = _strict(_load(crds)[key])
            # The CRD schema leaves apiVersion, kind and metadata to the API server.
            crd["properties"]["metadata"] = {"type": "object", "required": ["name"]}
            return Draft202012Validator(crd)
    raise KeyError(f"no schema kept for {key}: add it to deploy/schemas/vendor.py")


def manifest_errors(doc: dict[str, Any]) -> list[str]:
    """Why a Kubernetes resource would be rejected; empty when it is valid."""
    validator = _validator(doc["apiVersion"], doc["kind"])
    name = f"{doc['kind']}/{doc.get('metadata', {}).get('name')}"
    return [f"{name}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def compose_errors(doc: dict[str, Any]) -> list[str]:
    validator = Draft202012Validator(_load("compose-spec.json"))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
