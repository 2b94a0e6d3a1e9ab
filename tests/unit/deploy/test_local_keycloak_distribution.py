"""Each stack has its own Keycloak distribution (dev mode rewrites it and keeps its database
in it); the second stack copies the first one's, already built, rather than build its own."""

from deploy.local import keycloak_server
from deploy.local.config import StackConfig


def fake_distribution(server, started: bool) -> None:
    (server / "bin").mkdir(parents=True)
    (server / "version.txt").write_text(f"Keycloak - {keycloak_server.VERSION}\n")
    (server / "bin" / "kc.sh").write_text("#!/bin/sh\n")
    (server / "bin" / "kc.sh").chmod(0o755)
    (server / "lib" / "quarkus").mkdir(parents=True)
    (server / "lib" / "quarkus" / "generated-bytecode.jar").write_bytes(b"built for dev mode")
    if started:
        (server / "data" / "h2").mkdir(parents=True)
        (server / "data" / "h2" / "keycloakdb.mv.db").write_bytes(b"the platform's users")


def test_the_test_stack_copies_the_platforms_built_distribution_without_its_data(tmp_path):
    platform = StackConfig(state_dir=tmp_path / ".stack")
    fake_distribution(keycloak_server.server_dir(platform), started=True)
    tests = platform.for_tests()
    keycloak_server.resolve_distribution(tests)
    copy = keycloak_server.server_dir(tests)
    assert (copy / "lib" / "quarkus" / "generated-bytecode.jar").read_bytes() == b"built for dev mode"
    assert (copy / "bin" / "kc.sh").stat().st_mode & 0o111  # still executable
    assert not (copy / "data").exists()  # its own database, made at its first start


def test_a_stack_already_holding_the_version_keeps_its_own(tmp_path):
    platform = StackConfig(state_dir=tmp_path / ".stack")
    fake_distribution(keycloak_server.server_dir(platform), started=True)
    tests = platform.for_tests()
    fake_distribution(keycloak_server.server_dir(tests), started=False)
    (keycloak_server.server_dir(tests) / "lib" / "quarkus" / "generated-bytecode.jar").write_bytes(b"its own")
    keycloak_server.resolve_distribution(tests)
    assert (keycloak_server.server_dir(tests) / "lib" / "quarkus" / "generated-bytecode.jar").read_bytes() == b"its own"
