"""The laptop stack starts in order: Kafka and Postgres healthy, SCRAM users, provisioning
(roles, topics, ACLs, migrations), then the services; with credentials that agree."""

import re

from deploy.compose import required_variables
from schemas.platform import load_platform
from tests.unit.deploy.conftest import DEPLOY


def test_services_start_only_after_provisioning_which_waits_for_its_infrastructure(platform, compose_file):
    services = compose_file["services"]
    for name in platform.services:
        assert services[name]["depends_on"] == {"provision": {"condition": "service_completed_successfully"}}
    assert services["provision"]["depends_on"] == {
        "kafka-users": {"condition": "service_completed_successfully"}, "postgres": {"condition": "service_healthy"}}
    assert services["kafka-users"]["depends_on"] == {"kafka": {"condition": "service_healthy"}}


def test_the_broker_has_no_anonymous_listener_and_denies_what_no_acl_allows(compose_file):
    env = compose_file["services"]["kafka"]["environment"]
    assert all(p.endswith("SASL_PLAINTEXT") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_each_service_logs_in_with_the_password_its_user_was_created_with(platform, compose_file):
    services = compose_file["services"]
    users = services["kafka-users"]["command"][0]
    for name in platform.services:
        password = services[name]["environment"]["KAFKA_SASL_PASSWORD"]
        assert f"--entity-name {name} --add-config 'SCRAM-SHA-512=[password={password}]'" in users
        # The provisioner creates the role with the password the service connects with.
        assert services["provision"]["environment"][f"{name.upper()}_DATABASE_URL"] == \
            services[name]["environment"]["DATABASE_URL"]


def test_secrets_are_variables_an_operator_must_set_with_no_default(platform, compose_file):
    for name in platform.services:
        env = compose_file["services"][name]["environment"]
        for key in ("KAFKA_SASL_PASSWORD", "CLICK_SECRET", "CONSENT_PSEUDONYM_KEY"):
            if key in env:
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", env[key]), (name, key)
        password = re.fullmatch(r"postgresql://\w+:(.+)@postgres:5432/advocacy", env["DATABASE_URL"]).group(1)
        assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", password), name


def test_no_password_or_key_has_a_default_anywhere_in_the_file():
    """`${VAR:-default}` is what let a laptop run on public passwords (review S13); only the
    log level may default. Every variable compose needs is one `required_variables` names."""
    text = (DEPLOY / "compose" / "compose.yaml").read_text()
    defaulted = set(re.findall(r"\$\{(\w+):-", text))
    assert defaulted == {"LOG_LEVEL"}
    assert set(re.findall(r"\$\{(\w+):\?", text)) == set(required_variables(load_platform()))
    assert not re.search(r"\$\{\w*[^\w:}]", text), "a variable name compose cannot read (a hyphen?)"


def test_kafka_postgres_and_the_services_are_published_on_loopback_only(compose_file):
    for name, service in compose_file["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)
    assert compose_file["services"]["kafka"]["ports"] == ["127.0.0.1:29092:29092"]
    assert compose_file["services"]["postgres"]["ports"] == ["127.0.0.1:25432:5432"]


def test_each_service_is_checked_on_its_management_port_which_is_not_its_public_one(platform, compose_file):
    for name in platform.services:
        service = compose_file["services"][name]
        management = service["environment"]["MANAGEMENT_PORT"]
        assert management != "8080" and f"127.0.0.1:{management}/health" in " ".join(service["healthcheck"]["test"])
        assert any(port.endswith(f":{management}") for port in service["ports"])


def test_the_operators_guide_lists_every_variable_compose_requires():
    guide = (DEPLOY.parent / "docs" / "operators.md").read_text()
    for variable in required_variables(load_platform()):
        assert f"`{variable}`" in guide or f" {variable} " in guide, variable
