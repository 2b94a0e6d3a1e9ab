"""The four services as separate OS processes on the real stack: each keeps its own
projection of the directory, in its own schema, and dead-letters what it cannot read."""

import urllib.request

import asyncpg

from schemas import directory
from schemas.directory import Departure, Profile
from schemas.catalog import SERVICES
from harness.kafka import eventually, message_count, produce, read_topic
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
    dead_before = {name: await message_count(stack.kafka_bootstrap, f"advocacy.{name}.deadletter.v1")
                   for name in SERVICES}
    await produce(stack.kafka_bootstrap, directory.TOPIC, [*messages[:3], (BEN.encode(), b"{not json"), *messages[3:]])

    expected = {ADA: "Marketing", BEN: None}
    for schema in SERVICES:
        async def projected() -> bool:
            return await people_in(stack, schema) == expected

        await eventually(projected, timeout=30, what=f"the directory in {schema}.people")

    for name in SERVICES:
        dead = await read_topic(stack.kafka_bootstrap, f"advocacy.{name}.deadletter.v1", dead_before[name] + 1)
        assert len(dead) == dead_before[name] + 1 and dead[-1].value == b"{not json"
        with urllib.request.urlopen(f"http://127.0.0.1:{running_services[name] + MANAGEMENT_PORT_OFFSET}/metrics") as response:
            exposed = response.read().decode()
        # Which replica handled the events depends on the partitions it got (a running `make run`
        # platform shares the groups), so this checks the exposition, not the count.
        assert "# TYPE advocacy_messages_handled_total counter" in exposed
