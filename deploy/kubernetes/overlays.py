"""The kustomize tree: deploy/k8s/base (everything, production-shaped) and two overlays.

dev: one Kafka node and one replica per topic, a Postgres StatefulSet, and Secrets
generated with development values, which only local mode (ADVOCACY_ENV=local, set there)
lets the services start with. prod: the image from a registry and the public link domain;
its Secrets are created by operators (docs/operators.md), never committed, and the services
refuse to start while a key or a password is missing or a development one.
"""

from __future__ import annotations

import yaml

from deploy.images import POSTGRES_IMAGE, app_image
from deploy.kubernetes import CLUSTER, NAMESPACE, PART_OF, kafka, network, secret_name, workloads
from deploy.service_config import service_config
from schemas.platform import Platform

KUSTOMIZATION = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
DATABASE = "advocacy"


def base(platform: Platform) -> dict[str, list[dict]]:
    files = {"platform.yaml": [workloads.platform_config(), workloads.database_roles_job(platform)],
             "kafka-cluster.yaml": kafka.cluster(), "kafka-topics.yaml": kafka.topics(platform),
             "kafka-users.yaml": kafka.users(platform),
             **{f"{s}.yaml": workloads.service_resources(platform, s) for s in platform.services},
             "network-policies.yaml": network.policies(platform)}
    return {"kustomization.yaml": [{**KUSTOMIZATION, "namespace": NAMESPACE, "resources": list(files),
                                    "labels": [{"pairs": PART_OF}]}], **files}


def _json_patch(kind: str, operations: list[tuple[str, object]], name: str | None = None, op: str = "replace") -> dict:
    target = {"kind": kind, **({"name": name} if name else {})}
    ops = [{"op": op, "path": path, "value": value} for path, value in operations]
    return {"target": target, "patch": yaml.safe_dump(ops, sort_keys=False)}


def _dev_secrets(platform: Platform) -> list[dict]:
    def literals(service: str) -> list[str]:
        values = {"DATABASE_URL": f"postgresql://{service}:{service}-dev@postgres:5432/{DATABASE}",
                  "KAFKA_SASL_USERNAME": service, "KAFKA_SASL_PASSWORD": f"{service}-dev"}
        # Other secrets at the development default: allowed in local mode only, warned about at start.
        return [f"{key}={values.get(key, 'local-development-only')}" for key in service_config(service).secrets]
    admin = {"name": "postgres-admin", "literals": [
        "POSTGRES_PASSWORD=postgres-dev", f"DATABASE_URL=postgresql://postgres:postgres-dev@postgres:5432/{DATABASE}"]}
    return [admin, *({"name": secret_name(s), "literals": literals(s)} for s in platform.services)]


def postgres() -> list[dict]:
    labels = {"app.kubernetes.io/name": "postgres", **PART_OF}
    probe = {"exec": {"command": ["pg_isready", "-U", "postgres", "-d", DATABASE]}, "periodSeconds": 10}
    container = {
        "name": "postgres", "image": POSTGRES_IMAGE, "ports": [{"name": "postgres", "containerPort": 5432}],
        "env": [{"name": "POSTGRES_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "postgres-admin",
                                                                            "key": "POSTGRES_PASSWORD"}}},
                {"name": "POSTGRES_DB", "value": DATABASE},
                {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}],
        "readinessProbe": probe, "livenessProbe": probe,
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]}
    return [
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "postgres", "labels": labels},
         "spec": {"serviceName": "postgres", "replicas": 1, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels}, "spec": {
                      "securityContext": {"runAsNonRoot": True, "runAsUser": 999, "runAsGroup": 999, "fsGroup": 999},
                      "containers": [container]}},
                  "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                      "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "postgres", "labels": labels},
         "spec": {"selector": labels, "ports": [{"name": "postgres", "port": 5432, "targetPort": "postgres"}]}},
        network.postgres_policy(labels),
    ]


def dev(platform: Platform) -> dict[str, list[dict]]:
    patches = [
        _json_patch("KafkaNodePool", [("/spec/replicas", 1), ("/spec/storage", {"type": "ephemeral"}),
                                      ("/spec/resources", {"requests": {"cpu": "250m", "memory": "1Gi"},
                                                           "limits": {"memory": "1Gi"}})]),
        _json_patch("Kafka", [(f"/spec/kafka/config/{key}", 1) for key in (
            "default.replication.factor", "min.insync.replicas", "offsets.topic.replication.factor",
            "transaction.state.log.replication.factor", "transaction.state.log.min.isr")], CLUSTER),
        _json_patch("KafkaTopic", [("/spec/replicas", 1), ("/spec/config/min.insync.replicas", 1)]),
        # A cluster to try things on, with the development Secrets above: local mode.
        _json_patch("ConfigMap", [("/data/ADVOCACY_ENV", "local")], "platform-config", op="add"),
    ]
    return {"kustomization.yaml": [{
        **KUSTOMIZATION, "namespace": NAMESPACE, "resources": ["../../base", "postgres.yaml"],
        # Fixed names: KafkaUser and TriggerAuthentication name the Secrets in fields kustomize leaves alone.
        "generatorOptions": {"disableNameSuffixHash": True},
        "secretGenerator": _dev_secrets(platform), "patches": patches}], "postgres.yaml": postgres()}


def prod(platform: Platform) -> dict[str, list[dict]]:
    name, tag = app_image().split(":")
    links = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "distribution-config"},
             "data": {"PUBLIC_BASE_URL": "https://links.example.com"}}
    return {"kustomization.yaml": [{
        **KUSTOMIZATION, "namespace": NAMESPACE, "resources": ["../../base"],
        "images": [{"name": name, "newName": f"registry.example.com/{name}", "newTag": tag}],
        "patches": [{"patch": yaml.safe_dump(links, sort_keys=False)}] if "distribution" in platform.services else [],
    }]}


def tree(platform: Platform) -> dict[str, list[dict]]:
    """Every file under deploy/k8s/, by path relative to it."""
    return {**{f"base/{k}": v for k, v in base(platform).items()},
            **{f"overlays/dev/{k}": v for k, v in dev(platform).items()},
            **{f"overlays/prod/{k}": v for k, v in prod(platform).items()}}
