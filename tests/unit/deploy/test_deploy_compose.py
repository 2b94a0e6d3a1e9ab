"""The laptop stack starts in order: Kafka and Postgres healthy, SCRAM users, provisioning
(roles, topics, ACLs, migrations), then the services; with credentials that agree."""

import re


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


def test_secrets_are_variables_an_operator_can_set_not_literals(platform, compose_file):
    for name in platform.services:
        env = compose_file["services"][name]["environment"]
        for key in ("KAFKA_SASL_PASSWORD", "CLICK_SECRET", "CONSENT_PSEUDONYM_KEY"):
            if key in env:
                assert re.fullmatch(r"\$\{[A-Z_]+:-[^}]+\}", env[key]), (name, key)
