"""Kubernetes manifests generated from the declaration (`python -m deploy.generate`):
a kustomize base in deploy/k8s/base and dev and prod overlays. kafka.py: the Strimzi
cluster, topics and users; workloads.py: the services; overlays.py: the kustomizations.
"""

NAMESPACE = "advocacy"
CLUSTER = "advocacy"  # the Strimzi Kafka cluster; its bootstrap Service is <cluster>-kafka-bootstrap
# Fully qualified: KEDA's operator resolves it from its own namespace.
BOOTSTRAP = f"{CLUSTER}-kafka-bootstrap.{NAMESPACE}.svc:9092"
PART_OF = {"app.kubernetes.io/part-of": "advocacy"}


def secret_name(service: str) -> str:
    """The Secret a service reads its secrets from (operators create it in prod)."""
    return f"{service}-secrets"
