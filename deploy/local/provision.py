"""Idempotent database provisioning: one login role per service, owning only its own schema.

Runs on every `up` (a few statements, milliseconds), so services added to platform.toml
get their role without a rebuild; start_database() alone never provisions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

import asyncpg

from .config import StackConfig, StackError


def _ident(name: str) -> str:
    # Service names become SQL identifiers and passwords: allow only plain lowercase names.
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise StackError(f"postgres: {name!r} is not a plain lowercase identifier")
    return f'"{name}"'


async def provision(c: StackConfig, services: list[str]) -> None:
    """Idempotently: the database, and per service a login role owning only its own schema."""
    conn = await asyncpg.connect(c.admin_dsn.rsplit("/", 1)[0] + "/postgres")
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", c.database):
            await conn.execute(f"CREATE DATABASE {_ident(c.database)}")
    finally:
        await conn.close()
    conn = await asyncpg.connect(c.admin_dsn)
    try:
        await provision_roles(conn, c.database, dict.fromkeys(services))
    finally:
        await conn.close()


async def provision_roles(conn: asyncpg.Connection, database: str, roles: dict[str, str | None]) -> None:
    """Every service's role and schema (role name -> password, None for the local convention);
    also used by the compose and Kubernetes provisioner (deploy/provision.py)."""
    # Nothing for everyone: a service reaches only what it is granted below.
    await conn.execute(f"REVOKE ALL ON DATABASE {_ident(database)} FROM PUBLIC; "
                       "REVOKE ALL ON SCHEMA public FROM PUBLIC")
    for name, password in roles.items():
        await provision_role(conn, database, name, password)


SCRAM_ITERATIONS = 4096  # Postgres's own default (scram_iterations)


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """What Postgres stores for `password` (RFC 5802, RFC 7677), computed here so that the
    password itself never reaches the server, nor the statement logs a server may keep
    (`log_statement=ddl`; review S19): `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
    Raises StackError for a password that is not printable ASCII, on which SASLprep, which
    Postgres applies first, could change it."""
    if not (password.isascii() and password.isprintable()):
        raise StackError("postgres: use a printable ASCII password (e.g. openssl rand -hex 32)")
    salt = secrets.token_bytes(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.new(salted, b"Client Key", hashlib.sha256).digest()).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


async def provision_role(conn: asyncpg.Connection, database: str, name: str, password: str | None = None) -> None:
    """A login role `name` owning schema `name`, nothing else. Its password is the one given
    (deployments, deploy/provision.py) or else its name (the local stack's convention); the
    server is sent its SCRAM verifier only."""
    role = _ident(name)
    # DDL takes no bind parameters: a literal, of characters base64 and digits only.
    literal = "'" + scram_verifier(name if password is None else password) + "'"
    verb = "ALTER" if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name) else "CREATE"
    await conn.execute(f"""
        {verb} ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {literal};
        CREATE SCHEMA IF NOT EXISTS {role} AUTHORIZATION {role};
        ALTER SCHEMA {role} OWNER TO {role};
        ALTER ROLE {role} SET search_path = {role};
        GRANT CONNECT ON DATABASE {_ident(database)} TO {role};""")


async def drop_role(conn: asyncpg.Connection, name: str) -> None:
    """Undo `provision_role`: end its sessions, drop what it owns, drop it."""
    role = _ident(name)
    await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", name)
    await conn.execute(f"DROP OWNED BY {role} CASCADE; DROP ROLE {role}")


async def healthy(c: StackConfig, services: list[str]) -> bool:
    """Reachable as admin, with every service schema in place."""
    try:
        conn = await asyncpg.connect(c.admin_dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    try:
        present: int = await conn.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname = ANY($1::text[])",
                                            services)
        return present == len(services)
    finally:
        await conn.close()
