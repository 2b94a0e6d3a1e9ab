"""The reference against what the services hold, one check per piece of state. Each check
returns its differences (empty: equal), so a wait can poll it and an assertion can show it."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from schemas.catalog import SERVICES
from tests.e2e.crash import clicks, model
from tests.e2e.crash.clicks import Attempt
from tests.e2e.crash.inputs import Plan
from tests.e2e.crash.observed import Observed


@dataclass
class Run:
    """The inputs of one run, as far as they are sent."""

    plan: Plan
    followers: list = field(default_factory=list)  # FollowersReported events
    engagement: list = field(default_factory=list)  # EngagementObserved events
    clicks: list[Attempt] = field(default_factory=list)


def compare(what: str, expected: Mapping | set, actual: Mapping | set) -> list[str]:
    if expected == actual:
        return []
    if isinstance(expected, set):
        missing, unexpected, differ = expected - actual, actual - expected, set()
    else:
        missing, unexpected = expected.keys() - actual.keys(), actual.keys() - expected.keys()
        differ = {k for k in expected.keys() & actual.keys() if expected[k] != actual[k]}
    sample = [f"{k}: {expected.get(k) if isinstance(expected, Mapping) else 'expected'} != "
              f"{actual.get(k) if isinstance(actual, Mapping) else 'absent'}" for k in sorted(differ | missing)[:3]]
    return [f"{what}: {len(missing)} missing, {len(unexpected)} unexpected {sorted(unexpected)[:3]}, "
            f"{len(differ)} differ {sample}"]


async def people(seen: Observed, run: Run) -> list[str]:
    return compare("people", {s: len(run.plan.people) for s in SERVICES},
                   {s: await seen.known_people(s) for s in SERVICES})


async def consents(seen: Observed, run: Run, pseudonym_key: bytes) -> list[str]:
    p = run.plan
    return (compare("consent.consents", model.consent_status(p), await seen.consent_status())
            + compare("consent.ledger entries", {"entries": model.ledger_entries(p)},
                      {"entries": await seen.ledger_entries(list(p.choices), pseudonym_key)})
            + compare("distribution.consents", model.validity(p), await seen.validity("distribution"))
            + compare("metrics.consents", model.validity(p, model.METRICS_PURPOSES), await seen.validity("metrics")))


async def followers(seen: Observed, run: Run) -> list[str]:
    return compare("metrics.followers", model.followers(run.plan, run.followers), await seen.followers())


async def feeds(seen: Observed, run: Run) -> list[str]:
    return compare("distribution.feed", model.feeds(run.plan), await seen.feeds())


async def shares(seen: Observed, run: Run) -> list[str]:
    """Distribution made each share once; metrics counts each, attributed and with its reach
    only where the sharer allows it."""
    p, made = run.plan, await seen.shares()
    status = model.consent_status(p)
    reach = model.followers(p, run.followers)
    expected_counted = {r["share_id"]: (r["item_id"], r["network"], reach.get((r["advocate_id"], r["network"]), 0),
                                        False) for r in made}
    attributed = {r["share_id"]: r["advocate_id"] for r in made
                  if status.get((r["advocate_id"], "share_attribution")) in model.VALID}
    return (compare("distribution.shares", dict(model.shares(p)), dict(await seen.share_counts()))
            + compare("distribution.shares status", {r["share_id"]: "created" for r in made},
                      {r["share_id"]: r["status"] for r in made})
            + compare("metrics.shares", expected_counted, await seen.counted_shares())
            + compare("metrics.attributed_shares", attributed, await seen.attributed()))


async def outcomes(seen: Observed, run: Run, click_keys: dict[date, bytes]) -> list[str]:
    """Clicks (one per visitor, none twice), the highest counters, and metrics' per-item sums."""
    made = {r["share_id"]: r["item_id"] for r in await seen.shares()}
    recorded = await seen.clicks(list(made))
    landed = clicks.landed(run.clicks, set(recorded), click_keys)
    counters = model.engagement(run.engagement)
    per_item = model.item_figures(made, [(s, bot) for (s, _), bot in landed.items()], counters)
    return (compare("metrics.clicks", {k: (bot, 1) for k, bot in landed.items()}, recorded)
            + compare("metrics.engagement", counters, await seen.engagement(list(made)))
            + compare("metrics per item", {i: (f.shares, f.human_clicks, f.bot_clicks, f.impressions)
                                           for i, f in per_item.items()}, await seen.item_figures()))
