"""Outside local mode a service refuses to start on a development secret or password, in one
log line that names the variable and never its value (review S4); K_ANONYMITY below 3 is
refused in local mode too (S18). With keys and a password of its own, it starts outside local
mode on the real stack. Roles get their passwords as SCRAM verifiers, never in clear (S19)."""

import base64
import json
import os
import secrets
import subprocess
import sys
from urllib.parse import urlsplit

import asyncpg
import pytest
from pydantic import SecretStr

from deploy.local.provision import provision_role, scram_verifier
from harness.processes import free_port
from services.distribution.app import build_service
from services.distribution.config import DistributionSettings, DistributionTopics
from tests.conftest import dsn_for
from tests.integration.rig import ServiceRig, make_rig

STRONG_KEY = secrets.token_hex(32)


def start(service: str, stack, **env: str) -> tuple[int, list[dict]]:
    """`python -m services.<service>` outside local mode (unless `env` says otherwise), pointed
    at the test stack; returns its exit status and its log lines once it exits (60 s at most:
    a service that starts would run on, and the test fail on the timeout)."""
    base = {k: v for k, v in os.environ.items() if k not in ("ADVOCACY_ENV", "DATABASE_URL", "CLICK_SECRET",
                                                          "CONSENT_PSEUDONYM_KEY", "K_ANONYMITY")}
    base |= {"KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap, "HTTP_PORT": str(free_port()),
             "MANAGEMENT_PORT": str(free_port())}
    done = subprocess.run([sys.executable, "-m", f"services.{service}"], env={**base, **env},
                          capture_output=True, text=True, timeout=60)
    return done.returncode, [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]


def refusal(status: int, lines: list[dict]) -> str:
    """The one line a refusing service logs; asserts it is the only thing it said at that level."""
    critical = [line for line in lines if line["level"] == "CRITICAL"]
    assert status == 2 and len(critical) == 1, (status, lines)
    return critical[0]["message"]


def strong_dsn(stack, role: str) -> str:
    return dsn_for(stack.admin_dsn, role, secrets.token_hex(24))


def test_without_its_pseudonym_key_and_on_the_local_password_consent_refuses_naming_both(stack):
    message = refusal(*start("consent", stack, DATABASE_URL=dsn_for(stack.admin_dsn, "consent", "consent")))
    assert message.startswith("consent refuses to start: ")
    assert "CONSENT_PSEUDONYM_KEY is not set" in message
    assert "DATABASE_URL's password is a development password" in message


@pytest.mark.parametrize(("secret", "why"), [
    ("local-development-only", "CLICK_SECRET is the development default"),
    ("changeme-but-not-today", "CLICK_SECRET is shorter than 32 characters"),
])
def test_a_development_or_short_click_secret_is_refused_without_showing_it(stack, secret, why):
    status, lines = start("distribution", stack, CLICK_SECRET=secret, DATABASE_URL=strong_dsn(stack, "distribution"))
    assert refusal(status, lines) == f"distribution refuses to start: {why}"
    assert secret not in json.dumps(lines)


def test_a_missing_database_url_is_refused_rather_than_the_local_stacks_taken(stack):
    message = refusal(*start("curation", stack))
    assert message == "curation refuses to start: DATABASE_URL is not set (the default is the local stack's)"


@pytest.mark.parametrize("k", ["2", "1", "0"])
def test_metrics_refuses_k_anonymity_below_three_even_in_local_mode(stack, k):
    status, lines = start("metrics", stack, ADVOCACY_ENV="local", K_ANONYMITY=k,
                          DATABASE_URL=dsn_for(stack.admin_dsn, "metrics", "metrics"))
    assert refusal(status, lines) == (f"metrics refuses to start: K_ANONYMITY is {k}, below the floor of 3: "
                                      "groups that small single people out")


def test_management_endpoints_on_the_public_port_are_refused(stack):
    port = str(free_port())
    status, lines = start("consent", stack, ADVOCACY_ENV="local", HTTP_PORT=port, MANAGEMENT_PORT=port,
                          DATABASE_URL=dsn_for(stack.admin_dsn, "consent", "consent"))
    assert f"MANAGEMENT_PORT is HTTP_PORT ({port})" in refusal(status, lines)


@pytest.fixture
async def own_password(stack, scratch_schema) -> tuple[str, str]:
    """A scratch role whose password is random (not its name): (role, its DATABASE_URL)."""
    role, _ = await scratch_schema()
    dsn = strong_dsn(stack, role)
    admin = await asyncpg.connect(stack.admin_dsn)
    try:
        await provision_role(admin, urlsplit(stack.admin_dsn).path.lstrip("/"), role, urlsplit(dsn).password)
    finally:
        await admin.close()
    return role, dsn


async def test_with_keys_and_a_password_of_its_own_distribution_starts_outside_local_mode(
        stack, own_password, make_topics, scratch_schema):
    role, dsn = own_password
    async with make_rig(ServiceRig, stack, scratch_schema, make_topics, build_service, DistributionSettings,
                        DistributionTopics, advocacy_env="", click_secret=SecretStr(STRONG_KEY)) as rig:
        settings = rig.settings.model_copy(update={"service": role, "database_url": dsn})
        assert not settings.local and settings.refusals() == []
        rig.settings = settings
        async with rig.serving():
            assert (await rig.management("/ready")).status_code == 200


async def test_a_role_logs_in_with_its_password_which_the_server_only_ever_saw_as_a_verifier(stack, own_password):
    role, dsn = own_password
    conn = await asyncpg.connect(dsn)
    await conn.close()
    with pytest.raises(asyncpg.InvalidPasswordError):
        await (await asyncpg.connect(dsn_for(stack.admin_dsn, role, role))).close()


async def test_the_verifier_is_the_one_postgres_derives_itself(stack, own_password):
    role, _ = own_password
    admin = await asyncpg.connect(stack.admin_dsn)
    try:
        await admin.execute(f"SET password_encryption = 'scram-sha-256'; ALTER ROLE {role} PASSWORD 'plain-text-1'")
        stored = await admin.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", role)
    finally:
        await admin.close()
    iterations, salt = stored.removeprefix("SCRAM-SHA-256$").split("$")[0].split(":")
    assert scram_verifier("plain-text-1", base64.b64decode(salt), int(iterations)) == stored
    assert "plain-text-1" not in scram_verifier("plain-text-1")
