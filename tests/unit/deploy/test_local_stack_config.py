"""The local stack's ports come from one place (deploy/local/config.py), follow the environment,
and the test stack shares none of them with the platform stack."""

import os
import socket
from pathlib import Path

import pytest

from deploy.local.config import PORTAL, TEST_PORT_OFFSET, StackConfig, StackError
from deploy.local.ports import holder, listener_pid
from deploy.local.services import environment
from schemas.platform import load_platform

README = Path(__file__).parents[3] / "README.md"
MINE = {"ADVOCACY_STACK_DIR": "/tmp/elsewhere/.stack", "ADVOCACY_KAFKA_PORT": "29492", "ADVOCACY_PG_PORT": "25832",
        "ADVOCACY_KEYCLOAK_PORT": "28400", "ADVOCACY_HTTP_PORT_BASE": "28410"}


def numbers(config: StackConfig) -> dict[str, int]:
    return {p.label: p.number for p in config.ports()}


def test_without_settings_the_services_keep_their_declared_ports_and_the_portal_comes_next():
    config = StackConfig.from_env({})
    declared = load_platform().services
    assert {name: config.http_ports[name] for name in declared} == declared
    assert config.http_ports[PORTAL] == max(declared.values()) + 1


def test_without_settings_the_defaults_are_the_documented_ones():
    assert numbers(StackConfig.from_env({})) == {
        "kafka": 29092, "kafka controller": 29093, "postgres": 25432, "keycloak": 28080, "keycloak management": 28081,
        "curation http": 8081, "consent http": 8082, "distribution http": 8083, "metrics http": 8084,
        "portal http": 8085, "curation management": 8091, "consent management": 8092,
        "distribution management": 8093, "metrics management": 8094, "portal management": 8095}


def test_each_service_is_told_its_management_port_and_local_mode():
    config = StackConfig.from_env(MINE)
    for name in load_platform().services:
        env = environment(config, name)
        assert env["ADVOCACY_ENV"] == "local"
        assert (int(env["HTTP_PORT"]), int(env["MANAGEMENT_PORT"])) == (
            config.http_ports[name], config.management_ports[name])


@pytest.mark.parametrize("variable, moved", [
    ("ADVOCACY_KAFKA_PORT", {"kafka": 31000, "kafka controller": 31001}),
    ("ADVOCACY_KAFKA_CONTROLLER_PORT", {"kafka controller": 31000}),
    ("ADVOCACY_PG_PORT", {"postgres": 31000}),
    ("ADVOCACY_KEYCLOAK_PORT", {"keycloak": 31000, "keycloak management": 31001}),
    ("ADVOCACY_KEYCLOAK_MANAGEMENT_PORT", {"keycloak management": 31000}),
    ("ADVOCACY_HTTP_PORT_BASE", {"curation http": 31000, "consent http": 31001, "distribution http": 31002,
                                 "metrics http": 31003, "portal http": 31004, "curation management": 31010,
                                 "consent management": 31011, "distribution management": 31012,
                                 "metrics management": 31013, "portal management": 31014}),
    ("ADVOCACY_MANAGEMENT_PORT_BASE", {"curation management": 31000, "consent management": 31001,
                                       "distribution management": 31002, "metrics management": 31003,
                                       "portal management": 31004}),
])
def test_each_variable_moves_exactly_its_ports(variable: str, moved: dict[str, int]):
    before = numbers(StackConfig.from_env({}))
    assert numbers(StackConfig.from_env({variable: "31000"})) == {**before, **moved}


def test_every_variable_is_in_the_readmes_table():
    readme = README.read_text()
    for variable in {p.variable for p in StackConfig().ports()} | {"ADVOCACY_STACK_DIR", "ADVOCACY_PG_BIN"}:
        assert f"| `{variable}`" in readme, variable


def test_the_test_stack_has_its_own_state_dir_and_shares_no_port_with_the_platform_stack():
    for env in ({}, MINE):
        platform = StackConfig.from_env(env)
        tests = platform.for_tests()
        assert tests.state_dir == platform.state_dir.with_name(platform.state_dir.name + "-test")
        assert (platform.name, tests.name) == ("platform", "test")
        assert {label: n + TEST_PORT_OFFSET for label, n in numbers(platform).items()} == numbers(tests)
        assert not set(numbers(platform).values()) & set(numbers(tests).values())


def test_the_same_settings_give_the_same_stacks():
    assert StackConfig.from_env(MINE) == StackConfig.from_env(dict(MINE))
    assert StackConfig.from_env(MINE).for_tests() == StackConfig.from_env(MINE).for_tests()


@pytest.mark.parametrize("value", ["abc", "0", "70000", "-1", "80.5"])
def test_a_value_that_is_no_port_is_refused_naming_the_variable(value: str):
    with pytest.raises(StackError, match=f"ADVOCACY_PG_PORT='{value}' is not a port number"):
        StackConfig.from_env({"ADVOCACY_PG_PORT": value})


def test_two_parts_on_one_port_are_refused_naming_both():
    with pytest.raises(StackError, match="keycloak and postgres would both take port 25432"):
        StackConfig.from_env({"ADVOCACY_KEYCLOAK_PORT": "25432"})


def test_the_holder_of_a_listening_port_is_named_by_pid_and_command():
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        assert listener_pid(port) == os.getpid()
        assert holder(port).startswith(f"pid {os.getpid()} (") and "python" in holder(port)
    assert listener_pid(port) is None
