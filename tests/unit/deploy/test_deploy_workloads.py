"""What every service gets on Kubernetes: probes, resources, a non-root container,
configuration from a ConfigMap and secrets from a Secret, a PodDisruptionBudget and a
migration Job; and the migrate-only entry point migrates what a running service does."""

import importlib

import pytest

from deploy.service_config import service_config
from services.runtime.migrate import SERVICES_DIR, folders
from tests.unit.deploy.conftest import kustomize, of_kind

SERVICES = ["curation", "consent", "distribution", "metrics"]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_runs_probed_limited_and_unprivileged(service, base_docs):
    template = of_kind(base_docs, "Deployment")[service]["spec"]["template"]
    pod = template["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["python", "-m", f"services.{service}"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert {container[p]["httpGet"]["port"] for p in ("startupProbe", "livenessProbe", "readinessProbe")} == {"management"}
    assert set(container["resources"]) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    budget = of_kind(base_docs, "PodDisruptionBudget")[service]["spec"]
    assert budget["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items()


@pytest.mark.parametrize("service", SERVICES)
def test_settings_come_from_a_config_map_and_secrets_from_a_secret(service, base_docs):
    env_from = of_kind(base_docs, "Deployment")[service]["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert {"secretRef": {"name": f"{service}-secrets"}} in env_from
    assert {"configMapRef": {"name": f"{service}-config"}} in env_from
    config_map = of_kind(base_docs, "ConfigMap")[f"{service}-config"]["data"]
    secrets = service_config(service).secrets
    assert not set(config_map) & set(secrets)
    assert {"DATABASE_URL", "KAFKA_SASL_PASSWORD"} <= set(secrets)


def test_secret_settings_of_the_code_are_secrets_and_the_rest_is_configuration():
    assert "CLICK_SECRET" in service_config("distribution").secrets
    assert "CONSENT_PSEUDONYM_KEY" in service_config("consent").secrets
    assert service_config("distribution").settings["TRUSTED_PROXIES"] == '["127.0.0.1", "::1"]'
    assert service_config("curation").settings["DISCLOSURE_REQUIRED"] == "true"
    assert service_config("metrics").settings["K_ANONYMITY"] == "5"


@pytest.mark.parametrize("service", SERVICES)
def test_the_dev_secrets_hold_every_key_the_service_reads(service):
    secret = of_kind(kustomize("dev"), "Secret")[f"{service}-secrets"]
    assert set(secret["data"]) == set(service_config(service).secrets)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_a_migration_job_with_its_own_credentials(service, base_docs):
    job = of_kind(base_docs, "Job")[f"{service}-migrate"]["spec"]["template"]["spec"]
    assert job["restartPolicy"] in ("OnFailure", "Never")
    assert job["containers"][0]["command"] == ["python", "-m", "services.runtime.migrate", service]
    assert {"secretRef": {"name": f"{service}-secrets"}} in job["containers"][0]["envFrom"]


@pytest.mark.parametrize("service", SERVICES)
def test_migrate_only_applies_the_folders_the_running_service_applies(service):
    running = importlib.import_module(f"services.{service}.app").service
    assert folders(service, SERVICES_DIR / service / "migrations") == running.migrations


def test_the_database_roles_job_reads_every_services_login(platform, base_docs):
    job = of_kind(base_docs, "Job")["database-roles"]["spec"]["template"]["spec"]["containers"][0]
    assert job["command"] == ["python", "-m", "deploy.provision", "roles"]
    assert {e["name"] for e in job["env"]} == {"ADMIN_DATABASE_URL", *(f"{s.upper()}_DATABASE_URL" for s in platform.services)}


def test_services_connect_with_the_kafka_settings_the_runtime_reads(base_docs, compose_file):
    platform_config = of_kind(base_docs, "ConfigMap")["platform-config"]["data"]
    assert platform_config["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert platform_config["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert platform_config["HTTP_HOST"] == "0.0.0.0"
    for service in SERVICES:
        env = compose_file["services"][service]["environment"]
        assert env["KAFKA_SASL_USERNAME"] == service
        assert {"KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM",
                "KAFKA_SASL_PASSWORD", "DATABASE_URL"} <= set(env)


@pytest.mark.parametrize("service", SERVICES)
def test_metrics_and_readiness_are_on_the_management_port_which_the_service_does_not_expose(service, base_docs):
    platform_config = of_kind(base_docs, "ConfigMap")["platform-config"]["data"]
    template = of_kind(base_docs, "Deployment")[service]["spec"]["template"]
    ports = {p["name"]: p["containerPort"] for p in template["spec"]["containers"][0]["ports"]}
    assert ports == {"http": int(platform_config["HTTP_PORT"]), "management": int(platform_config["MANAGEMENT_PORT"])}
    assert ports["http"] != ports["management"]
    annotations = template["metadata"]["annotations"]
    assert (annotations["prometheus.io/port"], annotations["prometheus.io/path"]) == (str(ports["management"]), "/metrics")
    exposed = of_kind(base_docs, "Service")[service]["spec"]["ports"]
    assert [(p["port"], p["targetPort"]) for p in exposed] == [(ports["http"], "http")]  # what an Ingress can reach


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_trusts_the_brokers_through_the_cluster_ca_it_mounts(service, base_docs):
    cafile = of_kind(base_docs, "ConfigMap")["platform-config"]["data"]["KAFKA_SSL_CAFILE"]
    pod = of_kind(base_docs, "Deployment")[service]["spec"]["template"]["spec"]
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if cafile.startswith(m["mountPath"] + "/")]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert mount["readOnly"] is True
    assert volume["secret"]["secretName"] == "advocacy-cluster-ca-cert"  # Strimzi's, for cluster `advocacy`
    assert volume["secret"]["items"] == [{"key": "ca.crt", "path": cafile.rsplit("/", 1)[1]}]


@pytest.mark.parametrize("service", SERVICES)
def test_keda_reads_the_lag_over_tls_trusting_the_same_ca(service, base_docs):
    triggers = of_kind(base_docs, "ScaledObject")[service]["spec"]["triggers"]
    assert {t["metadata"]["tls"] for t in triggers} == {"enable"}
    assert {t["metadata"]["bootstrapServers"] for t in triggers} == \
        {of_kind(base_docs, "ConfigMap")["platform-config"]["data"]["KAFKA_BOOTSTRAP_SERVERS"]}
    refs = of_kind(base_docs, "TriggerAuthentication")[f"{service}-kafka"]["spec"]["secretTargetRef"]
    assert {"parameter": "ca", "name": "advocacy-cluster-ca-cert", "key": "ca.crt"} in refs


def test_only_the_dev_overlay_runs_in_local_mode():
    """Local mode lets services start on development secrets: the dev overlay, which brings
    them, says so; production never does, so a missing key stops the service."""
    def platform_config(overlay: str) -> dict:
        return of_kind(kustomize(overlay), "ConfigMap")["platform-config"]["data"]

    assert platform_config("dev")["ADVOCACY_ENV"] == "local"
    assert "ADVOCACY_ENV" not in platform_config("prod")
