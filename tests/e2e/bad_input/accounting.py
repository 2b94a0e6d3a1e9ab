"""Every input, for every service that reads its topic, gets exactly one outcome: handled,
rejected or dead-lettered. This module finds them and sums them up."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from tests.e2e.bad_input.contracts import COMMAND_TOPICS, contract_accepts, readers
from tests.e2e.bad_input.inputs import DEAD_LETTERED, HANDLED, REJECTED, Input
from tests.e2e.bad_input.observe import Outcomes


@dataclass
class Account:
    input: Input
    service: str
    outcomes: list[str]  # exactly one, or something was lost or doubled
    reason: str | None = None  # the rejection's reason, or the dead letter's error type

    @property
    def outcome(self) -> str:
        return self.outcomes[0] if len(self.outcomes) == 1 else f"{len(self.outcomes)} outcomes {self.outcomes}"

    def __str__(self) -> str:
        i = self.input
        return (f"{self.service} <- {i.topic}@{i.sent_partition}:{i.offset} [{i.category}] {i.label or i.id!r} "
                f"{(i.value or b'')[:300]!r}: "
                f"{self.outcome} ({self.reason}); expected {i.expectation(self.service)} ({i.reason})")


async def account(inputs: list[Input], seen: Outcomes) -> list[Account]:
    by_service: dict[str, list[Input]] = defaultdict(list)
    for i in inputs:
        for service in readers()[i.topic]:
            by_service[service].append(i)
    accounts = []
    for service, mine in by_service.items():
        handled = await seen.handled(service, [i.id for i in mine if i.id])
        committed = await seen.committed(service, {i.topic for i in mine})
        for i in mine:
            dead = seen.dead.get((service, i.topic, i.sent_partition, i.offset))
            rejected = seen.rejections.get((service, i.id)) if COMMAND_TOPICS.get(i.topic) == service else None
            outcomes = ([DEAD_LETTERED] if dead else []) + ([REJECTED] if rejected else [])
            # Its id in the inbox; or, where no id is kept (ADR 0021), passed and committed
            # without a dead letter or a rejection.
            passed = i.offset is not None and i.offset < committed.get((i.topic, i.sent_partition), -1)
            if (i.id in handled or (passed and not dead)) and not rejected:
                outcomes.append(HANDLED)
            accounts.append(Account(i, service, outcomes, rejected or (dead or {}).get("dlq-error-type")))
    return accounts


def unaccounted(accounts: list[Account]) -> list[Account]:
    """Lost (no outcome) or doubled (two)."""
    return [a for a in accounts if len(a.outcomes) != 1]


def against_the_label(accounts: list[Account]) -> list[Account]:
    """Corpus cases whose outcome (or rejection reason) is not the one written down."""
    return [a for a in accounts if a.input.expectation(a.service) is not None and (
        a.outcomes != [a.input.expectation(a.service)]
        or (a.input.reason is not None and a.reason != a.input.reason))]


def refused_yet_not_dead_lettered(accounts: list[Account]) -> list[Account]:
    """Generated inputs the service's own contract refuses must be dead-lettered, nothing else."""
    return [a for a in accounts if not a.input.label and a.outcomes != [DEAD_LETTERED]
            and not contract_accepts(a.input.topic, a.service, a.input.value)]


def figures(accounts: list[Account]) -> dict[str, Any]:
    """Inputs per category and per service, and what became of them."""
    def tally(selected: list[Account]) -> dict[str, int]:
        counts = Counter(a.outcome for a in selected)
        return {"sent": len(selected), **{o: counts.get(o, 0) for o in (HANDLED, REJECTED, DEAD_LETTERED)}}

    def grouped(key) -> dict[str, dict[str, int]]:
        groups: dict[str, list[Account]] = defaultdict(list)
        for a in accounts:
            groups[key(a)].append(a)
        return {k: tally(v) for k, v in sorted(groups.items())}

    return {
        "inputs": len({id(a.input) for a in accounts}),
        "outcomes": tally(accounts),
        "by_service": grouped(lambda a: a.service),
        "by_category": grouped(lambda a: a.input.category),
        "by_origin": grouped(lambda a: "corpus" if a.input.label else "generated"),
        "rejection_reasons": dict(Counter(a.reason for a in accounts if a.outcome == REJECTED).most_common()),
        "dead_letter_error_types": dict(Counter(a.reason for a in accounts if a.outcome == DEAD_LETTERED).most_common()),
    }
