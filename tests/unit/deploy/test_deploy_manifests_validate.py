"""Every manifest validates offline against the Kubernetes, Strimzi and KEDA schemas kept
in deploy/schemas/, in the base and in each overlay as kustomize renders it."""

import copy

import pytest

from deploy.validate import compose_errors, manifest_errors
from tests.unit.deploy.conftest import DEPLOY, K8S, kustomize, load_docs, of_kind


def test_every_base_resource_validates(base_docs):
    assert {d["kind"] for d in base_docs} >= {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "Job",
                                             "Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser",
                                             "ScaledObject", "TriggerAuthentication"}
    assert [e for doc in base_docs for e in manifest_errors(doc)] == []


def test_the_dev_overlays_own_resources_validate():
    assert [e for doc in load_docs(K8S / "overlays/dev/postgres.yaml") for e in manifest_errors(doc)] == []


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_each_overlay_renders_and_validates(overlay, base_docs):
    docs = kustomize(overlay)
    assert [e for doc in docs for e in manifest_errors(doc)] == []
    assert {d["metadata"].get("namespace") for d in docs} == {"advocacy"}
    # The overlay keeps everything the base declares.
    assert {(d["kind"], d["metadata"]["name"]) for d in base_docs} <= {(d["kind"], d["metadata"]["name"]) for d in docs}


def test_the_dev_overlay_shrinks_kafka_to_one_node_and_brings_its_secrets():
    docs = kustomize("dev")
    assert of_kind(docs, "KafkaNodePool")["combined"]["spec"]["replicas"] == 1
    assert {t["spec"]["replicas"] for t in of_kind(docs, "KafkaTopic").values()} == {1}
    assert set(of_kind(docs, "Secret")) == {"postgres-admin", "curation-secrets", "consent-secrets",
                                             "distribution-secrets", "metrics-secrets"}


def test_the_prod_overlay_pulls_the_image_from_a_registry_and_commits_no_secret():
    docs = kustomize("prod")
    images = {c["image"] for d in of_kind(docs, "Deployment").values() for c in d["spec"]["template"]["spec"]["containers"]}
    assert len(images) == 1 and images.pop().startswith("registry.example.com/advocacy:")
    assert of_kind(docs, "Secret") == {}


def test_the_validator_rejects_a_misspelt_field_in_each_schema_family(base_docs):
    # Strictness is what makes the checks above worth having: CRDs alone accept anything.
    deployment = copy.deepcopy(of_kind(base_docs, "Deployment")["consent"])
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    user = copy.deepcopy(of_kind(base_docs, "KafkaUser")["consent"])
    user["spec"]["authorization"]["acls"][0]["operation"] = "Read"
    scaled = copy.deepcopy(of_kind(base_docs, "ScaledObject")["consent"])
    scaled["spec"]["maxReplicas"] = 3
    for doc in (deployment, user, scaled):
        assert manifest_errors(doc), doc["kind"]


def test_the_compose_file_validates_against_the_compose_specification(compose_file):
    assert compose_errors(compose_file) == []
    broken = copy.deepcopy(compose_file)
    broken["services"]["consent"]["depends_on"]["provision"]["condition"] = "service_finished"
    assert compose_errors(broken)


def test_every_kept_schema_is_named_in_the_schemas_readme():
    readme = (DEPLOY / "schemas" / "README.md").read_text()
    for schema in (DEPLOY / "schemas").glob("*.json"):
        assert f"`{schema.name}`" in readme
