"""Who reaches what on Kubernetes (review S13): Kafka only over TLS and only from the
platform's pods, KEDA and labelled outside clients; a NetworkPolicy per service that opens
its management port to monitoring only and lets curation out to the public Internet but
never to private or metadata addresses; the dev overlay's Postgres for the platform only."""

import ipaddress

import pytest

from deploy.kubernetes.network import MONITORING_NAMESPACE
from deploy.service_config import HTTP_PORT, MANAGEMENT_PORT
from tests.unit.deploy.conftest import K8S, kustomize, load_docs, of_kind

SERVICES = ["curation", "consent", "distribution", "metrics"]


def ports_of(rule: dict) -> set[int]:
    return {p["port"] for p in rule.get("ports", [])}


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_kafka_listens_only_with_tls_and_scram_and_for_named_peers(overlay):
    (kafka,) = of_kind(kustomize(overlay), "Kafka").values()
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert listener["tls"] is True and listener["authentication"]["type"] == "scram-sha-512"
    peers = listener["networkPolicyPeers"]
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "advocacy"}}} in peers
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}} in peers
    assert all(peer.get("podSelector", {}).get("matchLabels") for peer in peers if "namespaceSelector" in peer
               and not peer["namespaceSelector"])  # any namespace: only labelled pods
    bootstrap = of_kind(kustomize(overlay), "ConfigMap")["platform-config"]["data"]["KAFKA_BOOTSTRAP_SERVERS"]
    assert bootstrap.endswith(f":{listener['port']}")


def test_each_service_has_a_policy_for_its_own_pods_in_both_directions(base_docs):
    policies = of_kind(base_docs, "NetworkPolicy")
    assert set(policies) == set(SERVICES)
    for service, policy in policies.items():
        spec = policy["spec"]
        assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": service}}
        assert spec["policyTypes"] == ["Ingress", "Egress"]
        deployment = of_kind(base_docs, "Deployment")[service]["spec"]["template"]["metadata"]["labels"]
        assert spec["podSelector"]["matchLabels"].items() <= deployment.items()


@pytest.mark.parametrize("service", SERVICES)
def test_the_management_port_is_open_to_monitoring_only_and_the_public_port_to_all(service, base_docs):
    ingress = of_kind(base_docs, "NetworkPolicy")[service]["spec"]["ingress"]
    management = [rule for rule in ingress if MANAGEMENT_PORT in ports_of(rule)]
    assert management == [{"from": [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": MONITORING_NAMESPACE}}}], "ports": [{"protocol": "TCP", "port": MANAGEMENT_PORT}]}]
    assert [ports_of(rule) for rule in ingress if "from" not in rule] == [{HTTP_PORT}]


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_reaches_dns_kafka_postgres_and_https_and_only_curation_more(service, base_docs):
    egress = of_kind(base_docs, "NetworkPolicy")[service]["spec"]["egress"]
    assert {53, 9093, 5432, 443} <= set().union(*map(ports_of, egress))
    unbounded = [rule for rule in egress if not rule.get("ports")]  # any port: feeds
    assert bool(unbounded) == (service == "curation")


def test_curation_may_fetch_feeds_from_the_internet_but_not_from_private_or_metadata_addresses(base_docs):
    egress = of_kind(base_docs, "NetworkPolicy")["curation"]["spec"]["egress"]
    (feeds,) = [rule for rule in egress if not rule.get("ports")]
    blocks = [peer["ipBlock"] for peer in feeds["to"]]

    def allowed(address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip in ipaddress.ip_network(b["cidr"]) and not any(ip in ipaddress.ip_network(e) for e in b["except"])
                   for b in blocks if ipaddress.ip_network(b["cidr"]).version == ip.version)

    for public in ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"):
        assert allowed(public), public
    for private in ("169.254.169.254", "10.0.0.1", "172.20.0.5", "192.168.1.1", "100.64.0.1", "127.0.0.1",
                    "fd00::1", "fe80::1", "::1"):
        assert not allowed(private), private


def test_the_dev_overlays_postgres_admits_only_the_platforms_pods():
    (policy,) = of_kind(load_docs(K8S / "overlays/dev/postgres.yaml"), "NetworkPolicy").values()
    assert policy["spec"]["ingress"] == [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "advocacy"}}}],
                                          "ports": [{"protocol": "TCP", "port": 5432}]}]
    roles_job = of_kind(kustomize("dev"), "Job")["database-roles"]["spec"]["template"]["metadata"]["labels"]
    assert roles_job["app.kubernetes.io/part-of"] == "advocacy"  # it creates the roles: it must get in
