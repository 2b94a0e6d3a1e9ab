"""A NetworkPolicy per service (review S13): who may reach its pods and what they may reach.

In: the public port (HTTP_PORT: the API, distribution's /r/) from anywhere, which an
Ingress narrows to paths; the management port (/health, /ready, /metrics) from the
monitoring namespace only (kubelet probes come from the node, which a policy does not
block). Out: DNS, the Kafka cluster's TLS listener, Postgres (managed or in-cluster: any
address, port 5432), HTTPS (the identity provider's keys); curation also the public
Internet on any port, for feeds, and never private, link-local or metadata addresses
(its SSRF guard checks the same in code, services/curation/fetching.py).
"""

from __future__ import annotations

from deploy.kubernetes import CLUSTER, KAFKA_PORT, PART_OF
from deploy.service_config import HTTP_PORT, MANAGEMENT_PORT
from schemas.platform import Platform

MONITORING_NAMESPACE = "monitoring"  # where Prometheus runs; an overlay changes it if yours differs
DATABASE_PORT = 5432
# Not the public Internet: RFC 1918, carrier-grade NAT (often the pod network), loopback,
# link-local (cloud metadata at 169.254.169.254), IPv6 unique-local and link-local.
PRIVATE_V4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16"]
PRIVATE_V6 = ["fc00::/7", "fe80::/10", "::1/128"]
FETCHES_FEEDS = {"curation"}


def _tcp(*ports: int) -> list[dict]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def service_policy(service: str) -> dict:
    dns = {"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
           "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
    kafka = {"to": [{"podSelector": {"matchLabels": {"strimzi.io/cluster": CLUSTER, "strimzi.io/kind": "Kafka"}}}],
             "ports": _tcp(KAFKA_PORT)}
    egress = [dns, kafka, {"ports": _tcp(DATABASE_PORT)}, {"ports": _tcp(443)}]
    if service in FETCHES_FEEDS:
        egress.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_V4}},
                              {"ipBlock": {"cidr": "::/0", "except": PRIVATE_V6}}]})
    monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}}}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": service, "labels": {"app.kubernetes.io/name": service, **PART_OF}},
            # The service's pods and its migration Job's (both carry its name).
            "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": service}},
                     "policyTypes": ["Ingress", "Egress"],
                     "ingress": [{"ports": _tcp(HTTP_PORT)},
                                 {"from": [monitoring], "ports": _tcp(MANAGEMENT_PORT)}],
                     "egress": egress}}


def policies(platform: Platform) -> list[dict]:
    return [service_policy(service) for service in platform.services]


def postgres_policy(labels: dict[str, str]) -> dict:
    """The dev overlay's Postgres: reached by the platform's pods only (services, migrations,
    the roles Job)."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "postgres", "labels": labels},
            "spec": {"podSelector": {"matchLabels": labels}, "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"podSelector": {"matchLabels": PART_OF}}],
                                  "ports": _tcp(DATABASE_PORT)}]}}
