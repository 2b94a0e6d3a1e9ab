"""Who may call what, across the four services, from one table: every endpoint × no token ×
each role alone (× the person's own or another person's data, where an endpoint has one).

- Without a token: 401, whatever the endpoint.
- With a role the endpoint does not take: 403 `not_permitted`.
- With one it takes (or any role, where being signed in is enough): neither of those — the
  request reaches the service's rules, which may still refuse it for what it is (404, 409,
  422, or 403 with another reason, e.g. `attribution_not_consented`).
- Another person's data: nobody reaches it, and nobody learns whether it exists — another
  person's share answers exactly as a share that does not exist.
"""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from schemas.consent import Purpose
from services.consent.app import build_service as consent_service
from services.consent.config import ConsentSettings, ConsentTopics
from services.curation.app import build_service as curation_service
from services.curation.config import CurationSettings, CurationTopics
from services.distribution.app import build_service as distribution_service
from services.distribution.config import DistributionSettings, DistributionTopics
from services.metrics.app import build_service as metrics_service
from services.metrics.config import MetricsSettings, MetricsTopics
from tests.integration.distribution.conftest import DistributionRig
from tests.integration.rig import ServiceRig, make_rig, new_id

ROLES = ("advocate", "editor", "approver", "analyst", "privacy_officer", "operator")
SIGNED_IN = frozenset(ROLES)  # any role will do: the person acts for themself

ITEM = {"source_url": "https://example.com/news/1", "title": "Quarterly news", "language": "en"}
CAMPAIGN = {"name": "Spring", "starts_on": "2026-03-01", "ends_on": "2026-03-31", "topics": []}
SOURCE = {"url": "https://blog.example.com/feed.xml", "language": "en", "topics": []}


@dataclass(frozen=True)
class Endpoint:
    service: str
    method: str
    path: str
    roles: frozenset[str]  # who may call it
    body: dict[str, Any] | None = None


def only(*roles: str) -> frozenset[str]:
    return frozenset(roles)


MATRIX = [
    # consent: a person's own choices need only sign-in; the privacy office has its role.
    Endpoint("consent", "GET", "/api/me/consents", SIGNED_IN),
    Endpoint("consent", "POST", "/api/me/consents/leaderboard/give", SIGNED_IN, {"policy_version": 1}),
    Endpoint("consent", "POST", "/api/me/consents/leaderboard/refuse", SIGNED_IN, {"policy_version": 1}),
    Endpoint("consent", "POST", "/api/me/consents/leaderboard/withdraw", SIGNED_IN, {}),
    Endpoint("consent", "POST", "/api/me/consents/withdraw", SIGNED_IN, {}),
    Endpoint("consent", "GET", "/api/me/receipt", SIGNED_IN),
    Endpoint("consent", "GET", "/api/policies", SIGNED_IN),
    Endpoint("consent", "POST", "/api/policies/leaderboard", only("privacy_officer"),
             {"version": 9, "text": "Rankings among those who opt in.", "requires_renewal": False}),
    Endpoint("consent", "POST", "/api/people/adv-somebody-else/erasure", only("privacy_officer"),
             {"reason": "asked by letter"}),
    Endpoint("consent", "POST", "/api/ledger/verification", only("privacy_officer"), {}),
    # curation: editors and approvers.
    Endpoint("curation", "POST", "/api/items", only("editor"), {"content": ITEM}),
    Endpoint("curation", "GET", "/api/items", only("editor", "approver")),
    Endpoint("curation", "GET", "/api/items/item-unknown-01", only("editor", "approver")),
    Endpoint("curation", "PUT", "/api/items/item-unknown-01", only("editor"), {"content": ITEM}),
    Endpoint("curation", "POST", "/api/items/item-unknown-01/submit", only("editor"), {}),
    Endpoint("curation", "POST", "/api/items/item-unknown-01/approve", only("approver"), {"version": 1}),
    Endpoint("curation", "POST", "/api/items/item-unknown-01/send-back", only("approver"), {"note": "shorter"}),
    Endpoint("curation", "POST", "/api/items/item-unknown-01/publish", only("approver"), {}),
    Endpoint("curation", "POST", "/api/items/item-unknown-01/retract", only("editor", "approver"), {"reason": "old"}),
    Endpoint("curation", "GET", "/api/review-queue", only("approver")),
    Endpoint("curation", "POST", "/api/campaigns", only("editor"), CAMPAIGN),
    Endpoint("curation", "GET", "/api/campaigns", only("editor", "approver")),
    Endpoint("curation", "PUT", "/api/campaigns/campaign-unknown", only("editor"), CAMPAIGN),
    Endpoint("curation", "POST", "/api/sources", only("editor"), SOURCE),
    Endpoint("curation", "GET", "/api/sources", only("editor")),
    Endpoint("curation", "POST", "/api/sources/source-unknown/pause", only("editor"), {}),
    Endpoint("curation", "DELETE", "/api/sources/source-unknown", only("editor")),
    Endpoint("curation", "GET", "/api/audit", only("editor", "privacy_officer")),
    # distribution: only the person's own feed and shares.
    Endpoint("distribution", "GET", "/api/me/feed", SIGNED_IN),
    Endpoint("distribution", "GET", "/api/me/shares", SIGNED_IN),
    Endpoint("distribution", "POST", "/api/me/shares", SIGNED_IN, {"item_id": "item-unknown-01", "network": "x"}),
    # metrics: a person's own figures; reports for analysts.
    Endpoint("metrics", "GET", "/api/me/impact?from=2026-03-01&to=2026-03-31", SIGNED_IN),
    Endpoint("metrics", "GET", "/api/me/leaderboard?from=2026-03-01&to=2026-03-31", SIGNED_IN),
    Endpoint("metrics", "GET", "/api/reports?from=2026-03-01&to=2026-03-31", only("analyst")),
]


@pytest.fixture
async def platform(stack, scratch_schema, make_topics, issuer) -> AsyncIterator[dict[str, ServiceRig]]:
    """The four services, each on its own schema and topics, serving HTTP, trusting the issuer."""
    kinds = {
        "consent": (ServiceRig, consent_service, ConsentSettings, ConsentTopics),
        "curation": (ServiceRig, curation_service, CurationSettings, CurationTopics),
        "distribution": (DistributionRig, distribution_service, DistributionSettings, DistributionTopics),
        "metrics": (ServiceRig, metrics_service, MetricsSettings, MetricsTopics),
    }
    async with AsyncExitStack() as services:
        rigs = {}
        for name, (rig_type, build, settings, topics) in kinds.items():
            rig = await services.enter_async_context(make_rig(
                rig_type, stack, scratch_schema, make_topics, build, settings, topics, identity=issuer.settings()))
            await services.enter_async_context(rig.serving())
            rigs[name] = rig
        yield rigs


async def test_every_endpoint_answers_each_role_as_the_table_says(platform, issuer):
    wrong: list[str] = []
    for endpoint in MATRIX:
        rig = platform[endpoint.service]
        anonymous = await rig.call(endpoint.method, endpoint.path, endpoint.body)
        if anonymous.status_code != 401:
            wrong.append(f"{endpoint.method} {endpoint.path} without a token: {anonymous.status_code}")
        for role in ROLES:
            token = issuer.token(sub=new_id("adv"), realm_roles=(role,))
            answer = await rig.call(endpoint.method, endpoint.path, endpoint.body, token=token)
            refused = answer.status_code == 403 and answer.json().get("reason") == "not_permitted"
            if role in endpoint.roles and (refused or answer.status_code == 401):
                wrong.append(f"{endpoint.method} {endpoint.path} as {role}: {answer.status_code} {answer.text[:120]}")
            if role not in endpoint.roles and not refused:
                wrong.append(f"{endpoint.method} {endpoint.path} as {role}: {answer.status_code}, not 403 not_permitted")
    assert wrong == []


async def test_nobody_reaches_another_persons_share_nor_learns_that_it_exists(platform, issuer):
    distribution: DistributionRig = platform["distribution"]
    anna, bert = new_id("adv-anna"), new_id("adv-bert")
    for person in (anna, bert):
        await distribution.join(person, networks=["x"])
        await distribution.consent(person, Purpose.RECEIVE_CONTENT)
    await distribution.until("SELECT count(*) FROM consents WHERE valid", 2)
    await distribution.until("SELECT count(*) FROM people", 2)  # the directory is another topic: fan-out needs both
    await distribution.publish("item-shared-001")
    await distribution.until("SELECT count(*) FROM feed WHERE item_id = 'item-shared-001'", 2)
    shared = await distribution.call("POST", "/api/me/shares", {"item_id": "item-shared-001", "network": "x"},
                                     token=issuer.token(sub=anna, realm_roles=("advocate",)))
    assert shared.status_code == 201, shared.text
    share_id = shared.json()["share_id"]

    for role in ROLES:  # Bert, whatever his role, sees nothing of Anna's share
        bert_token = issuer.token(sub=bert, realm_roles=(role,))
        for method, path in (("GET", f"/api/me/shares/{share_id}"), ("POST", f"/api/me/shares/{share_id}/cancel"),
                             ("GET", "/api/me/shares/no-such-share-000000000000")):
            answer = await distribution.call(method, path, {} if method == "POST" else None, token=bert_token)
            assert (answer.status_code, answer.json()["reason"]) == (404, "unknown_share"), (role, method, path)
        listed = await distribution.call("GET", "/api/me/shares", token=bert_token)
        assert listed.json()["items"] == []
    unknown = await distribution.call("GET", "/api/me/shares/no-such-share-000000000000",
                                      token=issuer.token(sub=bert, realm_roles=("advocate",)))
    theirs = await distribution.call("GET", f"/api/me/shares/{share_id}",
                                     token=issuer.token(sub=bert, realm_roles=("advocate",)))
    assert theirs.json() | {"instance": None} == unknown.json() | {"instance": None}  # the same answer, word for word
