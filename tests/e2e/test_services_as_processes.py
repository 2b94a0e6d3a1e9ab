"""The four services as separate OS processes on the real stack: each keeps its own
projection of the directory, in its own schema, and dead-letters what it cannot read; each
API takes the tokens of the test stack's Keycloak and nothing else, and checks roles."""

import json
import urllib.request
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx

from deploy.local.keycloak import demo_users, password_token
from harness.kafka import eventually, produce, read_topic
from ops.overview import consumer_lag, dead_letter_counts
from schemas import directory
from schemas.catalog import SERVICES
from schemas.directory import Departure, Profile
from schemas.export import ROOT
from schemas.platform import load_platform
from services.runtime.settings import MANAGEMENT_PORT_OFFSET

ADA, BEN, CAI = "adv-ada-0001", "adv-ben-0002", "adv-cai-0003"


async def people_in(stack, schema: str) -> dict[str, str | None]:
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        rows = await conn.fetch(f"SELECT advocate_id, org_unit FROM {schema}.people WHERE advocate_id = ANY($1)",
                                [ADA, BEN, CAI])
        return {r["advocate_id"]: r["org_unit"] for r in rows}
    finally:
        await conn.close()


async def test_every_service_projects_the_directory_and_dead_letters_garbage(stack, running_services):
    events = [
        directory.PersonJoined(source="/hr", subject=ADA, data=Profile(advocate_id=ADA, role="employee", org_unit="Sales")),
        directory.PersonJoined(source="/hr", subject=BEN, data=Profile(advocate_id=BEN, role="partner")),
        directory.PersonJoined(source="/crm", subject=CAI, data=Profile(advocate_id=CAI, role="press")),
        directory.PersonChanged(source="/hr", subject=ADA, data=Profile(advocate_id=ADA, role="employee", org_unit="Marketing")),
        directory.PersonLeft(source="/crm", subject=CAI, data=Departure(advocate_id=CAI)),
    ]
    messages = [(e.subject.encode(), e.to_bytes()) for e in events]
    sent = await produce(stack.kafka_bootstrap, directory.TOPIC,
                         [*messages[:3], (BEN.encode(), b"{not json"), *messages[3:]])
    garbage = {"dlq-original-topic": directory.TOPIC.encode(),
               "dlq-original-partition": str(sent[3].partition).encode(),
               "dlq-original-offset": str(sent[3].offset).encode()}

    expected = {ADA: "Marketing", BEN: None}
    for schema in SERVICES:
        async def projected(schema: str = schema) -> bool:
            return await people_in(stack, schema) == expected

        await eventually(projected, timeout=30, what=f"the directory in {schema}.people")

    for name in SERVICES:
        # The dead-letter topic is shared with the other tests (and a running `make run`), so the
        # garbage's own letter is picked out by where it was read from, not by counting.
        async def letters_for_garbage(name: str = name) -> list:
            dead = await read_topic(stack.kafka_bootstrap, f"advocacy.{name}.deadletter.v1", 1, settle=0.3)
            return [d for d in dead if {k: v for k, v in d.headers if k in garbage} == garbage]

        async def dead_lettered(name: str = name) -> bool:
            return bool(await letters_for_garbage(name))

        await eventually(dead_lettered, timeout=30, what=f"{name}'s dead letter for the garbage")
        [letter] = await letters_for_garbage()  # once, not once per redelivery
        assert letter.value in (None, b"")  # the directory is about people
        with urllib.request.urlopen(f"http://127.0.0.1:{running_services[name] + MANAGEMENT_PORT_OFFSET}/metrics") as response:
            exposed = response.read().decode()
        # Which replica handled the events depends on the partitions it got (a running `make run`
        # platform shares the groups), so this checks the exposition, not the count.
        assert "# TYPE advocacy_messages_handled_total counter" in exposed


async def test_every_service_takes_the_realms_tokens_and_refuses_a_missing_role_or_token(keycloak, running_services):
    today = datetime.now(UTC).date().isoformat()
    users = {u.username: u for u in demo_users()}
    async with httpx.AsyncClient(timeout=30) as http:
        async def bearer(username: str | None) -> dict[str, str]:
            if username is None:
                return {}
            token = await password_token(keycloak, username, users[username].password, http=http, scope=None)
            return {"Authorization": f"Bearer {token['access_token']}"}

        # (service, method, path, who signs in, body) -> the status and problem reason answered
        cases = [
            ("consent", "GET", "/api/me/consents", None, None, 401, "unauthenticated"),
            ("consent", "GET", "/api/me/consents", "advocate", None, 200, None),
            ("consent", "POST", "/api/people/adv-demo-0008/erasure", "manager", {"reason": "asked"}, 403, "not_permitted"),
            ("curation", "GET", "/api/items", None, None, 401, "unauthenticated"),
            ("curation", "GET", "/api/items", "advocate", None, 403, "not_permitted"),
            ("curation", "GET", "/api/review-queue", "approver", None, 200, None),
            ("distribution", "GET", "/api/me/feed", None, None, 401, "unauthenticated"),
            ("distribution", "GET", "/api/me/shares", "advocate2", None, 200, None),
            ("metrics", "GET", f"/api/reports?from={today}&to={today}", None, None, 401, "unauthenticated"),
            ("metrics", "GET", f"/api/reports?from={today}&to={today}", "editor", None, 403, "not_permitted"),
            ("metrics", "GET", f"/api/reports?from={today}&to={today}", "analyst", None, 200, None),
        ]
        answered = []
        for service, method, path, who, body, *_ in cases:
            response = await http.request(method, f"http://127.0.0.1:{running_services[service]}{path}", json=body,
                                          headers=await bearer(who))
            reason = response.json().get("reason") if response.status_code >= 400 else None
            answered.append((service, method, path, who, body, response.status_code, reason))
        assert answered == cases
        forged = {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZHYtZGVtby0wMDAxIn0."}
        for service, path in (("consent", "/api/me/consents"), ("distribution", "/api/me/feed")):
            response = await http.get(f"http://127.0.0.1:{running_services[service]}{path}", headers=forged)
            assert response.status_code == 401, service


OUTSIDE_WRITERS = {"hr", "content", "privacy-office", "connector"}


def outside_examples() -> list[tuple[str, dict]]:
    """(file name, schema) of every contract an outside system writes, as schemas/json/ has it."""
    platform = load_platform()
    written_outside = {t.name for t in platform.topics if OUTSIDE_WRITERS & set(t.writers)}
    examples = [(path.name, document) for path in sorted((ROOT / "json").glob("*.json"))
                if (document := json.loads(path.read_text()))["x-topic"] in written_outside]
    assert len({d["x-topic"] for _, d in examples}) == len(written_outside), "an example for every such topic"
    return examples


def fresh(document: dict) -> dict:
    """The schema's example as a new event sent now (not an inbox repeat; commands older than a day are refused)."""
    [instance] = document["examples"]
    return {**instance, "id": str(uuid.uuid4()), "time": datetime.now(UTC).isoformat()}


async def all_consumed(stack) -> bool:
    return all(lag == 0 for lag in (await consumer_lag(stack.kafka_bootstrap, list(SERVICES))).values())


async def test_every_published_example_of_what_outside_systems_send_is_handled_never_dead_lettered(
        stack, running_services):
    """What a partner writes from the published schemas alone: each schema's example
    (schemas/examples.py), as its file in schemas/json/ carries it, on its topic, keyed by its
    subject. Each is handled — applied, or answered with a rejection — and none is dead-lettered."""
    examples = outside_examples()
    dead_before = await dead_letter_counts(stack.kafka_bootstrap, list(SERVICES))

    for _, document in examples:
        instance = fresh(document)
        await produce(stack.kafka_bootstrap, document["x-topic"],
                      [(instance["subject"].encode(), json.dumps(instance).encode())])

    await eventually(lambda: all_consumed(stack), timeout=60, what="every example consumed")
    assert await dead_letter_counts(stack.kafka_bootstrap, list(SERVICES)) == dead_before, [n for n, _ in examples]


async def test_each_example_without_one_of_its_required_attributes_is_dead_lettered_by_every_reader(
        stack, running_services):
    """The other half of "the schemas are as strict as the services": what a schema requires,
    every service reading the topic requires too. Each example sent once per required
    attribute, without it, is dead-lettered by each of its readers, naming what is missing."""
    readers = {t.name: [r for r in t.readers if r in SERVICES] for t in load_platform().topics}
    dead_before = await dead_letter_counts(stack.kafka_bootstrap, list(SERVICES))
    expected = dict.fromkeys(SERVICES, 0)
    missing_by_id: dict[str, str] = {}  # event id -> the attribute left out

    for _, document in outside_examples():
        for attribute in document["required"]:
            instance = fresh(document)
            missing_by_id[instance["id"]] = attribute
            del instance[attribute]
            key = document["examples"][0]["subject"].encode()  # keyed as the full example would be
            await produce(stack.kafka_bootstrap, document["x-topic"], [(key, json.dumps(instance).encode())])
            for reader in readers[document["x-topic"]]:
                expected[reader] += 1

    await eventually(lambda: all_consumed(stack), timeout=60, what="every broken example consumed")
    after = await dead_letter_counts(stack.kafka_bootstrap, list(SERVICES))
    dead_lettered = {}
    for service in SERVICES:
        letters = await read_topic(stack.kafka_bootstrap, f"advocacy.{service}.deadletter.v1", after[service])
        originals = set()  # dead letters are at least once: a record redelivered after a rebalance comes twice
        for letter in letters[dead_before[service]:]:
            headers = {k: v.decode() for k, v in letter.headers}
            originals.add((headers["dlq-original-topic"], headers["dlq-original-partition"],
                           headers["dlq-original-offset"]))
            attribute = missing_by_id.get(headers.get("dlq-event-id", ""))
            if attribute is not None:  # a letter without an id is the one whose id was left out
                assert attribute in headers["dlq-error-message"], (service, attribute, headers)
        dead_lettered[service] = len(originals)
    assert dead_lettered == expected
