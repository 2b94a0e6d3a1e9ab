"""Refresh the schemas in this folder from the artifacts named in README.md (run by hand).

    python deploy/schemas/vendor.py KUBERNETES_SCHEMA_DIR STRIMZI_CRD_DIR KEDA_CRD_DIR COMPOSE_SPEC_JSON

Each output is trimmed to the kinds deploy/ uses, with descriptions dropped: the tests
load them on every run, and a 100 MB schema set would make that slow for nothing.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).parent
KUBERNETES_KINDS = {  # apiVersion/kind -> definition name in kubernetes-validate's _definitions.json
    "v1/ConfigMap": "io.k8s.api.core.v1.ConfigMap",
    "v1/Secret": "io.k8s.api.core.v1.Secret",
    "v1/Service": "io.k8s.api.core.v1.Service",
    "apps/v1/Deployment": "io.k8s.api.apps.v1.Deployment",
    "apps/v1/StatefulSet": "io.k8s.api.apps.v1.StatefulSet",
    "batch/v1/Job": "io.k8s.api.batch.v1.Job",
    "policy/v1/PodDisruptionBudget": "io.k8s.api.policy.v1.PodDisruptionBudget",
    "networking.k8s.io/v1/NetworkPolicy": "io.k8s.api.networking.v1.NetworkPolicy",
}
CRD_KINDS = {"strimzi": ["Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"],
             "keda": ["ScaledObject", "TriggerAuthentication"]}


def _strip(node):
    """Drop prose; keep every keyword that constrains."""
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def kubernetes(schema_dir: Path) -> dict:
    defs = json.loads((schema_dir / "_definitions.json").read_text())["$defs"]
    wanted, todo = {}, list(KUBERNETES_KINDS.values())
    while todo:  # the transitive closure of $refs from the kinds we use
        name = todo.pop()
        if name not in wanted:
            wanted[name] = _strip(defs[name])
            todo += re.findall(r'"\$ref": "[^"]*#/\$defs/([^"]+)"', json.dumps(defs[name]))
    text = re.sub(r'"\$ref": "[^"#]*#', '"$ref": "#', json.dumps({"$defs": wanted}, sort_keys=True))
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "kinds": KUBERNETES_KINDS,
            **json.loads(text)}


def crds(crd_dir: Path, kinds: list[str]) -> dict:
    out = {}
    for path in sorted(crd_dir.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        if crd.get("kind") != "CustomResourceDefinition" or crd["spec"]["names"]["kind"] not in kinds:
            continue
        for version in crd["spec"]["versions"]:
            if version.get("served", True):
                key = f"{crd['spec']['group']}/{version['name']}/{crd['spec']['names']['kind']}"
                out[key] = _strip(version["schema"]["openAPIV3Schema"])
    return out


def main(kubernetes_dir: str, strimzi_dir: str, keda_dir: str, compose_spec: str) -> None:
    outputs = {
        "kubernetes.json": kubernetes(Path(kubernetes_dir)),
        "strimzi.json": crds(Path(strimzi_dir), CRD_KINDS["strimzi"]),
        "keda.json": crds(Path(keda_dir), CRD_KINDS["keda"]),
        "compose-spec.json": json.loads(Path(compose_spec).read_text()),
    }
    for name, schema in outputs.items():
        (HERE / name).write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
