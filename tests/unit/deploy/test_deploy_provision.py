"""The compose and Kubernetes provisioner does what the local stack does, from the same
declaration and the same code: roles, topics, ACLs, migrations (here against fakes)."""

from typing import ClassVar

import pytest

import deploy.provision as provision
from schemas.platform import grants

ENV = {"ADMIN_DATABASE_URL": "postgresql://postgres:admin-pw@db:5432/advocacy",
       "KAFKA_BOOTSTRAP_SERVERS": "kafka:9094", "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
       "KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "admin", "KAFKA_SASL_PASSWORD": "admin-pw",
       **{f"{s.upper()}_DATABASE_URL": f"postgresql://{s}:{s}-pw@db:5432/advocacy"
          for s in ("curation", "consent", "distribution", "metrics")}}


class FakeConnection:
    async def close(self):
        pass


@pytest.fixture
def calls(monkeypatch):
    seen = {}

    async def connect(dsn):
        seen["admin_dsn"] = dsn
        return FakeConnection()

    async def provision_roles(conn, database, roles):
        seen["roles"] = (database, roles)

    async def ensure_topics(bootstrap, topics, **security):
        seen["topics"] = (bootstrap, list(topics), security)
        return []

    async def create_acls(bootstrap, acls, **security):
        seen["acls"] = (bootstrap, acls, security)

    async def migrate_service(settings):
        seen.setdefault("migrated", []).append((settings.service, settings.database_url))
        return []

    for name, fake in {"provision_roles": provision_roles, "ensure_topics": ensure_topics,
                       "create_acls": create_acls, "migrate_service": migrate_service}.items():
        monkeypatch.setattr(provision, name, fake)
    monkeypatch.setattr(provision.asyncpg, "connect", connect)
    return seen


async def test_all_provisions_roles_topics_acls_and_migrations_from_the_declaration(calls, platform):
    await provision.run(list(provision.STEPS), ENV, platform)
    assert calls["admin_dsn"] == ENV["ADMIN_DATABASE_URL"]
    assert calls["roles"] == ("advocacy", {s: f"{s}-pw" for s in platform.services})
    bootstrap, topics, security = calls["topics"]
    assert (bootstrap, topics) == ("kafka:9094", platform.topics)
    assert security["sasl_plain_username"] == "admin" and security["security_protocol"] == "SASL_PLAINTEXT"
    assert calls["acls"][1] == grants(platform)
    assert calls["migrated"] == [(s, ENV[f"{s.upper()}_DATABASE_URL"]) for s in platform.services]


async def test_a_service_login_that_is_not_the_services_own_role_is_refused(calls, platform):
    env = {**ENV, "CONSENT_DATABASE_URL": "postgresql://postgres:x@db:5432/advocacy"}
    with pytest.raises(SystemExit, match="CONSENT_DATABASE_URL must log in as 'consent'"):
        await provision.run(["roles"], env, platform)
    assert "roles" not in calls


async def test_a_role_gets_the_verifier_of_the_deployments_password_or_locally_its_name_never_the_password():
    """Postgres logs DDL with log_statement=ddl: the statement carries a SCRAM verifier (review S19)."""
    import base64
    import re

    from deploy.local.provision import provision_role, scram_verifier

    class Recorder:
        sql: ClassVar[list[str]] = []

        async def fetchval(self, *args):
            return None  # the role does not exist yet

        async def execute(self, sql):
            self.sql.append(sql)

    conn = Recorder()
    await provision_role(conn, "advocacy", "consent", "it's-secret")
    await provision_role(conn, "advocacy", "metrics")
    for sql, password in zip(conn.sql, ("it's-secret", "metrics"), strict=True):
        verifier = re.search(r"NOCREATEROLE PASSWORD '(SCRAM-SHA-256\$(\d+):([^$]+)\$[^']+)'", sql)
        assert verifier, sql
        assert verifier.group(1) == scram_verifier(password, base64.b64decode(verifier.group(3)), int(verifier.group(2)))
        literal = "'" + password.replace("'", "''") + "'"
        assert literal not in sql


def test_a_password_scram_cannot_carry_as_it_is_is_refused():
    from deploy.local.config import StackError
    from deploy.local.provision import scram_verifier

    for password in ("pässwort", "tab\there"):
        with pytest.raises(StackError, match="printable ASCII"):
            scram_verifier(password)
