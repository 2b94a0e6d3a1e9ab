"""Topics, their settings and who may write and read them are declared once
(schemas/platform.toml); the Strimzi resources, the KEDA scalers and the compose stack say
the same, and the local stack runs the same broker version."""

from deploy.images import kafka_version
from schemas.platform import Grant, grants
from tests.unit.deploy.conftest import of_kind


def test_each_declared_topic_is_a_kafka_topic_with_its_partitions_and_settings(platform, base_docs):
    topics = {t["spec"]["topicName"]: t["spec"] for t in of_kind(base_docs, "KafkaTopic").values()}
    assert set(topics) == {t.name for t in platform.topics}
    for declared in platform.topics:
        spec = topics[declared.name]
        assert spec["partitions"] == declared.partitions
        assert {k: str(v) for k, v in spec["config"].items() if k in declared.kafka_configs} == declared.kafka_configs


def test_kafka_users_grant_exactly_the_least_privilege_set(platform, base_docs):
    users = of_kind(base_docs, "KafkaUser")
    assert set(users) == set(platform.kafka_principals)
    granted = set()
    for name, user in users.items():
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        for acl in user["spec"]["authorization"]["acls"]:
            resource = acl["resource"]
            assert resource["patternType"] == ("prefix" if resource["type"] == "group" else "literal")
            granted |= {Grant(name, op, resource["type"], resource["name"]) for op in acl["operations"]}
    assert granted == set(grants(platform))


def test_each_consumer_scales_on_the_lag_of_each_of_its_consumer_groups(platform, base_docs):
    for service, scaled in of_kind(base_docs, "ScaledObject").items():
        subscribed = [t for t in platform.topics if service in t.readers]
        triggers = scaled["spec"]["triggers"]
        assert {(t["metadata"]["topic"], t["metadata"]["consumerGroup"]) for t in triggers} == \
            {(t.name, f"{service}.{t.name}") for t in subscribed}
        assert {t["type"] for t in triggers} == {"kafka"}
        # More replicas than partitions would sit idle; fewer than one would stop the relay.
        assert scaled["spec"]["minReplicaCount"] == 1
        assert scaled["spec"]["maxReplicaCount"] == max(t.partitions for t in subscribed)
    assert set(of_kind(base_docs, "ScaledObject")) == set(platform.services)


def test_compose_runs_the_declared_services_on_their_declared_ports(platform, compose_file):
    services = compose_file["services"]
    for name, port in platform.services.items():
        assert services[name]["ports"] == [f"127.0.0.1:{port}:8080", f"127.0.0.1:{port + 10}:8090"]
        assert services[name]["command"] == ["python", "-m", f"services.{name}"]
    # Every principal the ACLs name gets a SCRAM credential before provisioning.
    users_command = services["kafka-users"]["command"][0]
    for principal in {g.principal for g in grants(platform)}:
        assert f"--entity-name {principal} " in users_command


def test_compose_provisions_from_the_declaration_with_the_local_stacks_broker(compose_file):
    services = compose_file["services"]
    assert services["provision"]["command"] == ["python", "-m", "deploy.provision", "all"]
    assert services["kafka"]["image"] == f"apache/kafka:{kafka_version()}"
