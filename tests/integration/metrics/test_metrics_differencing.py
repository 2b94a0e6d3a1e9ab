"""A differencing attacker of our own (#17, ADR 0020): it reads every report it may over
HTTP (totals and every breakdown, overlapping periods, each campaign and the whole period,
again as time goes on) and every snapshot on Kafka, and tries to isolate the contribution
of fewer than k people by any subtraction, or any other linear combination, of what it read.

How it sees what a figure is made of: each share gets impressions 3**j (j: the share's
number), so a figure's impressions, written in balanced ternary, say which shares it sums.
A combination of figures isolates a group of people when it is non-zero and every share it
involves is theirs: that is, when the span of the figures read meets the span of the group's
shares (dim(V ∩ U) = rank V + rank U − rank(V ∪ U) > 0). The attacker tries every group of
fewer than k people. Today's main isolates several (an unsuppressed network of one person,
totals minus the org units shown, a campaign minus a period, consecutive snapshots)."""

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest

from services.metrics.app import build_service
from services.metrics.config import MetricsSettings, MetricsTopics
from tests.integration.metrics.conftest import MetricsRig, new_id
from tests.integration.rig import Clock, make_rig

K = 3  # the smallest K_ANONYMITY a service starts with: the hardest case
W1, W2 = datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 9, 9, tzinfo=UTC)  # two Mondays


@pytest.fixture
async def metrics_k3(stack, scratch_schema, make_topics, issuer) -> AsyncIterator[MetricsRig]:
    """Metrics with k = 3 on a clock the test sets: Wednesday of week W1."""
    async with make_rig(MetricsRig, stack, scratch_schema, make_topics, build_service, MetricsSettings, MetricsTopics,
                        clock=Clock(W1 + timedelta(days=2)), identity=issuer.settings(), snapshot_seconds=0.2,
                        release_seconds=0, ingest_batch_size=500, k_anonymity=K) as rig:
        rig.issuer = issuer
        async with rig.serving():
            yield rig


class Attacker:
    """What the attacker has read, as the shares each figure sums."""

    def __init__(self) -> None:
        self.owner: list[str] = []  # share number → person
        self.figures: list[tuple[str, list[int]]] = []  # (where it was read, coefficient per share)

    def impressions(self, person: str) -> int:
        """The signature of the next share `person` makes."""
        self.owner.append(person)
        return 3 ** (len(self.owner) - 1)

    def read(self, where: str, impressions: int) -> None:
        coefficients, value = [], impressions
        for _ in self.owner:  # balanced ternary digits
            digit = value % 3
            value //= 3
            if digit == 2:
                digit, value = -1, value + 1
            coefficients.append(digit)
        assert value == 0, f"{where}: {impressions} is no sum of the shares made"
        self.figures.append((where, coefficients))

    def read_report(self, name: str, report: dict) -> None:
        if report.get("totals") is not None:
            self.read(f"{name} totals", report["totals"]["impressions"])
        for section, key in (("by_network", "network"), ("by_topic", "topic"), ("top_items", "item_id"),
                             ("by_org_unit", "org_unit"), ("by_location", "location")):
            for group in report.get(section, ()):
                self.read(f"{name} {section} {group[key]}", group["impressions"])

    def isolated(self, k: int) -> list[tuple[str, ...]]:
        """Every group of fewer than k people some combination of the figures read isolates."""
        n = len(self.owner)  # figures read before later shares were made are 0 on those
        published = [c + [0] * (n - len(c)) for _, c in self.figures]
        rank_v = rank(published)
        people = sorted(set(self.owner))
        found = []
        for size in range(1, k):
            for group in itertools.combinations(people, size):
                theirs = [[int(j == i) for j in range(len(self.owner))]
                          for i, owner in enumerate(self.owner) if owner in group]
                if rank_v + len(theirs) - rank(published + theirs) > 0:
                    found.append(group)
        return found


def rank(rows: list[list[int]]) -> int:
    """The rank of integer rows over the rationals (Gaussian elimination)."""
    matrix = [[Fraction(x) for x in row] for row in rows if any(row)]
    r = 0
    for column in range(len(matrix[0]) if matrix else 0):
        pivot = next((i for i in range(r, len(matrix)) if matrix[i][column] != 0), None)
        if pivot is None:
            continue
        matrix[r], matrix[pivot] = matrix[pivot], matrix[r]
        for i in range(len(matrix)):
            if i != r and matrix[i][column] != 0:
                factor = matrix[i][column] / matrix[r][column]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[r], strict=True)]
        r += 1
    return r


async def population(metrics: MetricsRig) -> dict[str, list[str]]:
    """Sales (5, Bern), Marketing (3, Bern), Finance (2, Basel) and Legal (1, Basel)."""
    return {"Sales": await metrics.people(5, "Sales", location="Bern"),
            "Marketing": await metrics.people(3, "Marketing", location="Bern"),
            "Finance": await metrics.people(2, "Finance", location="Basel"),
            "Legal": await metrics.people(1, "Legal", location="Basel")}


async def content(metrics: MetricsRig) -> str:
    """Campaign `camp` with item i1 (jobs); i2 (jobs, culture) and i3 (culture) outside it."""
    campaign = new_id("camp")
    await metrics.campaign(campaign)
    await metrics.item("item-00000001", "One", campaign, topics=("jobs",))
    await metrics.item("item-00000002", "Two", None, topics=("jobs", "culture"))
    await metrics.item("item-00000003", "Three", None, topics=("culture",))
    await metrics.drained(metrics.topics.curation_events)
    return campaign


async def share(metrics: MetricsRig, attacker: Attacker, people: list[str], item: str, network: str,
                campaign: str | None, at: datetime) -> None:
    """Each of `people` shares `item` once, is clicked once and observed with its signature."""
    shares = [metrics.share(p, item, network, campaign, at=at) for p in people]
    await metrics.send_to(metrics.topics.distribution_events, *shares, *[metrics.click(s, at=at) for s in shares])
    await metrics.send_to(metrics.topics.engagement, *[
        metrics.observed(s, at=at, impressions=attacker.impressions(p)) for s, p in zip(shares, people, strict=True)])
    await metrics.drained(metrics.topics.distribution_events, metrics.topics.engagement)


async def read_every_report(metrics: MetricsRig, attacker: Attacker, campaign: str, when: str) -> None:
    periods = [(date(2026, 3, 2), date(2026, 3, 8)), (date(2026, 3, 9), date(2026, 3, 15)),
               (date(2026, 3, 2), date(2026, 3, 15)), (date(2026, 3, 5), date(2026, 3, 12)),
               (date(2026, 3, 10), date(2026, 3, 10)), (date(2026, 3, 1), date(2026, 3, 31))]
    for (starts_on, ends_on), scope in itertools.product(periods, (None, campaign)):
        params = {"from_": str(starts_on), "to": str(ends_on), **({"campaign_id": scope} if scope else {})}
        attacker.read_report(f"{when} report {starts_on}..{ends_on} {scope or 'all'}", await metrics.report_json(**params))


async def test_no_subtraction_of_reports_isolates_anyone(metrics_k3):
    metrics, attacker = metrics_k3, Attacker()
    metrics.clock.now = datetime(2026, 3, 20, 12, tzinfo=UTC)  # both weeks are over
    people, campaign = await population(metrics), await content(metrics)
    # Week W1: Sales and Marketing share i1 in the campaign on linkedin, Finance i2 outside
    # it, Legal's one person i3 on mastodon. Week W2: Legal shares i1, three of Sales i2 on x.
    await share(metrics, attacker, people["Sales"] + people["Marketing"], "item-00000001", "linkedin", campaign, W1)
    await share(metrics, attacker, people["Finance"], "item-00000002", "linkedin", None, W1 + timedelta(days=1))
    await share(metrics, attacker, people["Legal"], "item-00000003", "mastodon", None, W1 + timedelta(days=2))
    await share(metrics, attacker, people["Legal"], "item-00000001", "linkedin", campaign, W2 + timedelta(days=1))
    await share(metrics, attacker, people["Sales"][:3], "item-00000002", "x", None, W2 + timedelta(days=2))

    await read_every_report(metrics, attacker, campaign, "after W2")
    assert attacker.figures, "the reports show something"
    assert attacker.isolated(K) == []
    report = await metrics.report_json(from_="2026-03-02", to="2026-03-15")
    assert report["totals"]["shares"] == 15 and report["k_anonymity"] == K  # the whole still adds up


async def test_no_subtraction_of_consecutive_snapshots_and_reports_isolates_anyone(metrics_k3):
    metrics, attacker = metrics_k3, Attacker()
    people, campaign = await population(metrics), await content(metrics)

    def snapshot(id_: str, **figures) -> object:
        return lambda e: (e["type"] == "advocacy.metrics.snapshot.v1" and e["data"]["id"] == id_
                          and figures.items() <= e["data"]["figures"].items())

    # Week W1, while it runs: nothing of it is told, whoever shares.
    await share(metrics, attacker, people["Sales"] + people["Marketing"], "item-00000001", "linkedin", campaign, W1)
    await read_every_report(metrics, attacker, campaign, "during W1, 8 sharers")
    await share(metrics, attacker, people["Legal"], "item-00000003", "mastodon", None, W1 + timedelta(days=1))
    await share(metrics, attacker, people["Finance"], "item-00000002", "linkedin", None, W1 + timedelta(days=1))
    await read_every_report(metrics, attacker, campaign, "during W1, 11 sharers")

    metrics.clock.now = W2 + timedelta(days=2)  # W1 is over: its figures come out at once
    await metrics.events(snapshot("item-00000001", shares=8))
    await read_every_report(metrics, attacker, campaign, "during W2")
    # Week W2: Legal's one person shares i1 of the campaign, alone in that week.
    await share(metrics, attacker, people["Legal"], "item-00000001", "linkedin", campaign, W2 + timedelta(days=3))
    await metrics.events(snapshot("item-00000001", shares=8), at_least=2)  # due again, W2 not counted yet
    await read_every_report(metrics, attacker, campaign, "during W2, after Legal")

    metrics.clock.now = W2 + timedelta(days=8)  # W2 is over
    await metrics.events(snapshot("item-00000001"), at_least=3)
    await read_every_report(metrics, attacker, campaign, "after W2")
    snapshots = await metrics.events(lambda e: e["type"] == "advocacy.metrics.snapshot.v1")
    for s in snapshots:
        attacker.read(f"snapshot {s['data']['scope']} {s['data']['id']} {s['id']}", s["data"]["figures"]["impressions"])

    assert {s["data"]["id"] for s in snapshots} >= {"item-00000001", campaign}
    assert attacker.isolated(K) == []
