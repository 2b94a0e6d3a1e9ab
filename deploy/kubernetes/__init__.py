"""Kubernetes manifests generated from the declaration (`python -m deploy.generate`):
a kustomize base in deploy/k8s/base and dev and prod overlays. kafka.py: the Strimzi
cluster, topics and users; workloads.py: the services; overlays.py: the kustomizations.
"""

NAMESPACE = "advocacy"
CLUSTER = "advocacy"  # the Strimzi Kafka cluster; its bootstrap Service is <cluster>-kafka-bootstrap
KAFKA_PORT = 9093  # the cluster's one client listener: TLS with SCRAM-SHA-512 (SASL_SSL)
# Fully qualified: KEDA's operator resolves it from its own namespace.
BOOTSTRAP = f"{CLUSTER}-kafka-bootstrap.{NAMESPACE}.svc:{KAFKA_PORT}"
# Strimzi's cluster CA (it signs the brokers' certificates and renews them): a Secret it makes,
# holding `ca.crt`; the services and KEDA trust the brokers through it.
CLUSTER_CA_SECRET = f"{CLUSTER}-cluster-ca-cert"
PART_OF = {"app.kubernetes.io/part-of": "advocacy"}


def secret_name(service: str) -> str:
    """The Secret a service reads its secrets from (operators create it in prod)."""
    return f"{service}-secrets"
