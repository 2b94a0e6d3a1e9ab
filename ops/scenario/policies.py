"""The policy texts people answer: the current version of each purpose, with version 1
published where a purpose has none yet — by the privacy office, one of two ways:

- `over_http`: a privacy officer, signed in, at POST /api/policies/{purpose} (the scenario:
  the published version names who published it, and the answer is the policy itself);
- `on_kafka`: the privacy office's tool, a system with a Kafka principal of its own,
  publishing `policy.publish.v1` and waiting for `policy.published` (tests of the broker).
"""

import asyncpg

from ops.bus import Tail, publish
from ops.scenario import commands
from ops.scenario.front_door import FrontDoor, Refused
from schemas import consent
from schemas.consent import Purpose


async def over_http(door: FrontDoor, officer: str) -> tuple[dict[Purpose, int], list[Purpose]]:
    """(the current version of each purpose, the purposes published now), as `officer` (a
    privacy_officer) reads and publishes them."""
    answer = await door.query(officer, "consent", "/api/policies")
    versions = {Purpose(p["purpose"]): p["version"] for p in answer["policies"]}
    published = []
    for purpose in (p for p in Purpose if p not in versions):
        try:
            made = await door.command(officer, "POST", "consent", f"/api/policies/{purpose.value}",
                                      commands.policy_body(purpose, 1))
        except Refused as refused:  # another run published it meanwhile: read what is current
            if refused.reason != consent.Reason.POLICY_VERSION_NOT_NEWER:
                raise
            current, also = await over_http(door, officer)
            return current, published + also
        versions[purpose] = made["version"] if made else 1  # None: applied by a lost try of this request
        published.append(purpose)
    return versions, published


async def on_kafka(admin: asyncpg.Connection, bootstrap: str, tail: Tail) -> dict[Purpose, int]:
    """The current version of each purpose (read from consent's tables, as an operator
    would), version 1 published on Kafka where there is none."""
    rows = await admin.fetch("SELECT purpose, current_version FROM consent.purposes")
    versions = {Purpose(r["purpose"]): r["current_version"] for r in rows if r["current_version"]}
    missing = [p for p in Purpose if p not in versions]
    if missing:
        await publish(bootstrap, consent.COMMANDS_TOPIC, [commands.policy(p, 1) for p in missing])
        await tail.wait_for("advocacy.consent.policy.published.v1", len(missing))
        versions |= dict.fromkeys(missing, 1)
    return versions
