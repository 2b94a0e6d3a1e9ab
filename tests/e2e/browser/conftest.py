"""The platform as people meet it: the four services and the portal as processes on the
test stack, Keycloak's realm with people made for this run, the directory and the policy
texts in place. Then each test drives a real Chromium through the portal's pages."""

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from deploy.local.keycloak import API_AUDIENCE, PORTAL, Person, Realm, create_users, password_token
from harness.kafka import eventually, produce
from harness.processes import free_port
from schemas import directory
from schemas.catalog import SERVICES
from schemas.consent import Purpose
from schemas.directory import Profile
from tests.e2e.browser.browser import Browser, missing_tools
from tests.e2e.supervisor import Supervisor

POLICY = ("We use your answer to {purpose} only for that purpose, until you withdraw it, "
          "which you can do at any time, as easily as you gave it.")


@dataclass(frozen=True)
class Cast:
    """The people of this run: name -> Person (password = username)."""

    people: dict[str, Person]

    def __getitem__(self, name: str) -> Person:
        return self.people[name]


@dataclass
class Portal:
    url: str
    services: dict[str, int]
    cast: Cast
    realm: Realm


ROLES = {"ada": ("advocate",), "ben": ("advocate",), "cai": ("advocate",), "dan": ("advocate",),
         "eve": ("editor",), "pat": ("approver",), "mia": ("editor", "approver"), "ana": ("analyst",),
         "pia": ("privacy_officer",)}


@pytest.fixture(scope="session")
def browser_tools() -> None:
    if (missing := missing_tools()) is not None:
        pytest.fail(f"the browser tests need a browser and axe-core: {missing}")


async def _join_directory(stack, cast: Cast) -> None:
    events = [directory.PersonJoined(source="/hr", subject=p.advocate_id, data=Profile(
        advocate_id=p.advocate_id, role="employee", org_unit="Communications", location="Berlin",
        languages=["en", "de"], networks=["linkedin", "x"])) for p in cast.people.values()]
    await produce(stack.kafka_bootstrap, directory.TOPIC, [(e.subject.encode(), e.to_bytes()) for e in events])
    ids = [p.advocate_id for p in cast.people.values()]
    admin = await asyncpg.connect(stack.admin_dsn)
    try:
        for schema in ("consent", "distribution", "curation", "metrics"):
            async def projected(schema: str = schema) -> bool:
                count = await admin.fetchval(f"SELECT count(*) FROM {schema}.people WHERE advocate_id = ANY($1)", ids)
                return count == len(ids)

            await eventually(projected, timeout=60, what=f"this run's people in {schema}")
    finally:
        await admin.close()


async def _policies(realm: Realm, consent_url: str, officer: Person) -> None:
    """A policy text for each purpose that has none yet (the test stack may have them)."""
    token = (await password_token(realm, officer.username, officer.password))["access_token"]
    async with httpx.AsyncClient(base_url=consent_url, headers={"Authorization": f"Bearer {token}"}) as http:
        have = {p["purpose"] for p in (await http.get("/api/policies")).raise_for_status().json()["policies"]}
        for purpose in Purpose:
            if purpose.value not in have:
                answer = await http.post(f"/api/policies/{purpose.value}", json={
                    "version": 1, "text": POLICY.format(purpose=purpose.value), "requires_renewal": False})
                assert answer.status_code in (201, 409), answer.text


@pytest.fixture(scope="session")
async def portal(stack, keycloak: Realm, tmp_path_factory, browser_tools) -> Iterator[Portal]:
    """The four services and the portal as processes, trusting the test stack's Keycloak."""
    run = uuid.uuid4().hex[:6]
    cast = Cast({name: Person(f"adv-{run}-{name}", f"{name}-{run}", f"{name}-{run}", roles)
                 for name, roles in ROLES.items()})
    await create_users(keycloak, cast.people.values())
    logs = tmp_path_factory.mktemp("portal-e2e")
    supervisor = Supervisor(stack, logs, env={"OIDC_ISSUER": keycloak.issuer, "OIDC_AUDIENCE": API_AUDIENCE})
    for name in SERVICES:
        supervisor.add(name)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ports = supervisor.ports()
    log = open(logs / "portal.log", "ab")
    process = None
    try:
        for name in SERVICES:
            supervisor.start(name)
        for name in SERVICES:
            await supervisor.until_ready(name, timeout=90)
        process = subprocess.Popen([sys.executable, "-m", "services.portal"], stdout=log, stderr=subprocess.STDOUT, env={
            **os.environ, "ADVOCACY_ENV": "local", "HTTP_PORT": str(port), "PORTAL_PUBLIC_URL": url,
            "OIDC_ISSUER": keycloak.issuer,
            "PORTAL_CLIENT_ID": PORTAL.client_id, "PORTAL_CLIENT_SECRET": PORTAL.secret,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['distribution']}",
            **{f"{name.upper()}_URL": f"http://127.0.0.1:{ports[name]}" for name in SERVICES}})
        await asyncio.gather(_join_directory(stack, cast),
                             _policies(keycloak, f"http://127.0.0.1:{ports['consent']}", cast["pia"]))

        async def portal_ready() -> bool:
            async with httpx.AsyncClient() as http:
                try:
                    return (await http.get(f"{url}/ready")).status_code == 200
                except httpx.HTTPError:
                    return False

        await eventually(portal_ready, timeout=60, what="the portal ready")
        yield Portal(url, ports, cast, keycloak)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        log.close()
        supervisor.stop_all()


@pytest.fixture
def open_browser(portal: Portal, tmp_path: Path) -> Iterator:
    """`open_browser(lang="en")`: a fresh browser profile; all are closed after the test."""
    opened: list[Browser] = []

    def make(lang: str = "en") -> Browser:
        n = len(opened)
        downloads = tmp_path / f"downloads-{n}"
        downloads.mkdir()
        browser = Browser(portal.url, tmp_path / f"profile-{n}", downloads, lang)
        opened.append(browser)
        return browser

    yield make
    for browser in opened:
        browser.close()


def signed_in(open_browser, portal: Portal, name: str, path: str = "/consent", lang: str = "en") -> Browser:
    browser = open_browser(lang)
    person = portal.cast[name]
    browser.sign_in(person.username, person.password, path)
    return browser
