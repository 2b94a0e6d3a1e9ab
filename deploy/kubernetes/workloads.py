"""Per service: ConfigMap, Deployment (probes, resources, non-root), Service,
PodDisruptionBudget, migration Job, and a KEDA ScaledObject scaling on the lag of each of
its consumer groups; plus the platform-wide ConfigMap and the database-roles Job.

Kafka is reached over TLS (SASL_SSL) and trusted through Strimzi's cluster CA, mounted from
its Secret. The Service exposes HTTP_PORT only; probes and Prometheus use MANAGEMENT_PORT on
the pod itself (network.py lets only the monitoring namespace in there)."""

from __future__ import annotations

from typing import Any

from deploy.images import app_image
from deploy.kubernetes import BOOTSTRAP, CLUSTER_CA_SECRET, PART_OF, secret_name
from deploy.service_config import HTTP_PORT, MANAGEMENT_PORT, cpu_nice, service_config
from schemas.platform import Platform, consumer_group_prefix
from services.runtime.priority import cpu_request_milli

LAG_THRESHOLD = "100"  # messages behind per replica before KEDA adds one
KAFKA_CA_DIR = "/etc/advocacy/kafka-ca"  # where the cluster CA's Secret is mounted, read-only
CPU_REQUEST_MILLI = 100  # a service at CPU_NICE 0; one that yields requests less (cpu_request)
RESOURCES = {"requests": {"cpu": f"{CPU_REQUEST_MILLI}m", "memory": "256Mi"},
             "limits": {"cpu": "1", "memory": "512Mi"}}
# Metrics ingests in batches of 10,000 and renders reports: it gets more memory, and at
# CPU_NICE 0 a larger CPU request.
MORE_MEMORY = {"metrics": {"requests": "512Mi", "limits": "1Gi"}}
MORE_CPU_MILLI = {"metrics": 250}


def resources(service: str) -> dict:
    """Requests and limits of the service's container. The CPU request is the weight the
    kernel gives the container's cgroup when a node's cores are short (cpu.shares, cpu.weight):
    a service whose CPU_NICE is above 0 (metrics' bulk ingestion, ADR 0029) requests what that
    nice value weighs beside the others' CPU_REQUEST_MILLI, so it yields the node's cores to
    them as a niced process would on one machine, and still bursts up to its limit when they
    are idle."""
    memory = MORE_MEMORY.get(service, {"requests": RESOURCES["requests"]["memory"],
                                       "limits": RESOURCES["limits"]["memory"]})
    nice = cpu_nice(service)
    cpu = cpu_request_milli(nice, CPU_REQUEST_MILLI) if nice else MORE_CPU_MILLI.get(service, CPU_REQUEST_MILLI)
    return {"requests": {"cpu": f"{cpu}m", "memory": memory["requests"]},
            "limits": {"cpu": RESOURCES["limits"]["cpu"], "memory": memory["limits"]}}


def labels(service: str, component: str) -> dict:
    return {"app.kubernetes.io/name": service, "app.kubernetes.io/component": component, **PART_OF}


def platform_config() -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "platform-config"},
            "data": {"KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP, "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                     "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SSL_CAFILE": f"{KAFKA_CA_DIR}/ca.crt",
                     "HTTP_HOST": "0.0.0.0", "HTTP_PORT": str(HTTP_PORT), "MANAGEMENT_PORT": str(MANAGEMENT_PORT),
                     "LOG_LEVEL": "INFO"}}


def _pod(containers: list[dict], volumes: list[dict], restart: str = "Always") -> dict:
    return {"automountServiceAccountToken": False, "restartPolicy": restart,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": containers, "volumes": volumes}


def _container(name: str, command: list[str], env_from: list[dict], mounts: list[dict], **extra) -> dict:
    return {"name": name, "image": app_image(), "command": command, "envFrom": env_from,
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, *mounts], **extra}


def _env_from(service: str) -> list[dict]:
    return [{"configMapRef": {"name": "platform-config"}}, {"configMapRef": {"name": f"{service}-config"}},
            {"secretRef": {"name": secret_name(service)}}]


def _probe(path: str, period: int, failures: int) -> dict:
    return {"httpGet": {"path": path, "port": "management"}, "periodSeconds": period, "timeoutSeconds": 3,
            "failureThreshold": failures}


def service_resources(platform: Platform, service: str) -> list[dict]:
    config = service_config(service)
    meta = lambda component, name=service: {"name": name, "labels": labels(service, component)}  # noqa: E731
    selector = {"app.kubernetes.io/name": service, "app.kubernetes.io/component": "service"}
    volumes: list[dict] = [{"name": "tmp", "emptyDir": {}}, {"name": "kafka-ca", "secret": {
        "secretName": CLUSTER_CA_SECRET, "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]
    container = _container(
        service, ["python", "-m", f"services.{service}"], _env_from(service),
        [{"name": "kafka-ca", "mountPath": KAFKA_CA_DIR, "readOnly": True}],
        ports=[{"name": "http", "containerPort": HTTP_PORT}, {"name": "management", "containerPort": MANAGEMENT_PORT}],
        # /health answers only once migrations ran: give a first start two minutes.
        startupProbe=_probe("/health", 5, 24), livenessProbe=_probe("/health", 10, 3),
        readinessProbe=_probe("/ready", 5, 3), resources=resources(service))
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("service"), "spec": {
        # No `replicas`: the ScaledObject owns it.
        "selector": {"matchLabels": selector},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "template": {"metadata": {"labels": labels(service, "service"), "annotations": {
            "prometheus.io/scrape": "true", "prometheus.io/port": str(MANAGEMENT_PORT),
            "prometheus.io/path": "/metrics"}},
            "spec": {**_pod([container], volumes), "terminationGracePeriodSeconds": 30}}}}
    migrate = _container("migrate", ["python", "-m", "services.runtime.migrate", service], _env_from(service), [],
                         resources=RESOURCES)
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("service", f"{service}-config"),
         "data": config.settings},
        deployment,
        {"apiVersion": "v1", "kind": "Service", "metadata": meta("service"),
         "spec": {"selector": selector, "ports": [{"name": "http", "port": HTTP_PORT, "targetPort": "http"}]}},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta("service"),
         "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta("migration", f"{service}-migrate"),
         "spec": {"backoffLimit": 6, "ttlSecondsAfterFinished": 3600,
                  "template": {"metadata": {"labels": labels(service, "migration")},
                               "spec": _pod([migrate], [{"name": "tmp", "emptyDir": {}}], "OnFailure")}}},
        *scaling(platform, service),
    ]


def scaling(platform: Platform, service: str) -> list[dict]:
    """One Kafka trigger per consumer group (`<service>.<topic>`); KEDA takes the largest
    demand and never exceeds a topic's partitions, past which replicas would idle."""
    subscribed = [t for t in platform.topics if service in t.readers]
    triggers = [{"type": "kafka", "name": t.name.replace(".", "-"), "authenticationRef": {"name": f"{service}-kafka"},
                 "metadata": {"bootstrapServers": BOOTSTRAP,
                              "consumerGroup": f"{consumer_group_prefix(service)}{t.name}",
                              "topic": t.name, "lagThreshold": LAG_THRESHOLD, "offsetResetPolicy": "earliest",
                              "sasl": "scram_sha512", "tls": "enable"}} for t in subscribed]
    secret = secret_name(service)
    return [
        {"apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication",
         "metadata": {"name": f"{service}-kafka", "labels": labels(service, "scaling")},
         "spec": {"secretTargetRef": [{"parameter": "username", "name": secret, "key": "KAFKA_SASL_USERNAME"},
                                      {"parameter": "password", "name": secret, "key": "KAFKA_SASL_PASSWORD"},
                                      {"parameter": "ca", "name": CLUSTER_CA_SECRET, "key": "ca.crt"}]}},
        {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
         "metadata": {"name": service, "labels": labels(service, "scaling")},
         # At least one replica always: the relay, schedules and HTTP endpoints live in it.
         "spec": {"scaleTargetRef": {"name": service}, "minReplicaCount": 1,
                  "maxReplicaCount": max(t.partitions for t in subscribed), "pollingInterval": 15,
                  "cooldownPeriod": 300, "triggers": triggers}},
    ]


def database_roles_job(platform: Platform) -> dict:
    """Each service's login role and schema (deploy/provision.py roles), before migrations."""
    def secret(name: str) -> dict[str, Any]:
        return {"secretKeyRef": {"name": name, "key": "DATABASE_URL"}}

    env = [{"name": "ADMIN_DATABASE_URL", "valueFrom": secret("postgres-admin")}]
    env += [{"name": f"{s.upper()}_DATABASE_URL", "valueFrom": secret(secret_name(s))}
            for s in platform.services]
    container = _container("roles", ["python", "-m", "deploy.provision", "roles"],
                           [{"configMapRef": {"name": "platform-config"}}], [], env=env, resources=RESOURCES)
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "database-roles",
                         "labels": {"app.kubernetes.io/component": "provisioning", **PART_OF}},
            "spec": {"backoffLimit": 6, "ttlSecondsAfterFinished": 3600,
                     "template": {"metadata": {"labels": {"app.kubernetes.io/component": "provisioning", **PART_OF}},
                                  "spec": _pod([container], [{"name": "tmp", "emptyDir": {}}], "OnFailure")}}}
