"""The input stream, drawn from a seeded generator: the same size and seed give the same
people, consent choices, items and share requests. Clicks and connector reports are drawn
later from the shares the platform created (their ids and links are the platform's).
Consent choices, approvals and share requests are HTTP commands of the person who makes
them (front_door.py); joins, drafts, publications and connectors' reports are Kafka messages."""

import random
from dataclasses import dataclass, field

from ops.scenario.cast import INTERESTS, Person, cast
from ops.scenario.commands import APPROVER, EDITOR
from schemas import curation
from schemas.consent import CollectionMethod, Purpose
from schemas.directory import Network
from tests.e2e.crash.front_door import ALREADY_APPLIED, Command

GIVE, REFUSE, WITHDRAW = "give", "refuse", "withdraw"  # as consent's API names them
NEWSROOM = "/newsroom"
OTHER_PURPOSES = (Purpose.SHARE_ATTRIBUTION, Purpose.NETWORK_REACH, Purpose.LEADERBOARD)


@dataclass
class Plan:
    tag: str
    people: list[Person]
    choices: dict[str, list[tuple[str, Purpose]]]  # per advocate, in the order they are sent
    items: dict[str, curation.ItemContent]
    share_requests: list[tuple[str, str, Network]] = field(default_factory=list)  # (advocate, item, network)


def plan(size: int, items: int, seed: int) -> Plan:
    tag = f"x{seed:08x}"[-7:]
    people = cast(size, seed, tag)
    rng = random.Random(seed + 1)  # cast() consumed its own generator: keep it reproducible on its own
    choices = {p.advocate_id: changes_of_mind(_first_answers(people.answers[p.advocate_id]), rng)
               for p in people.people}
    return Plan(tag, people.people, choices, {f"item-{tag}-{n:02d}": _item(tag, n, rng) for n in range(items)})


def _first_answers(answers) -> list[tuple[str, Purpose]]:
    return ([(GIVE, p) for p in sorted(answers.gives)] + [(REFUSE, p) for p in sorted(answers.refuses)]
            + [(WITHDRAW, p) for p in sorted(answers.withdraws)])


def changes_of_mind(sequence: list[tuple[str, Purpose]], rng: random.Random) -> list[tuple[str, Purpose]]:
    """People change their minds: some withdraw another purpose, some give again what they
    withdrew, some give twice (a renewal), some withdraw what they never gave (no effect)."""
    sequence = list(sequence)
    if rng.random() < 0.15:
        sequence.append((WITHDRAW, rng.choice(OTHER_PURPOSES)))
    if (WITHDRAW, Purpose.RECEIVE_CONTENT) in sequence and rng.random() < 0.5:
        sequence.append((GIVE, Purpose.RECEIVE_CONTENT))
    if rng.random() < 0.05:
        sequence.append((GIVE, rng.choice(OTHER_PURPOSES)))
    return sequence


def _item(tag: str, n: int, rng: random.Random) -> curation.ItemContent:
    language = rng.choice(("de", "en", "fr"))
    title = f"News {n} of run {tag}"
    return curation.ItemContent(
        source_url=f"https://example.com/news/{tag}/{n}", title=title, language=language,
        topics=sorted(rng.sample(INTERESTS, rng.randint(0, 2))), campaign_id=f"campaign-{tag}",
        disclosure="#employee", summary="Read more on our site.",
        audience=curation.Audience(roles=["employee"] if rng.random() < 0.3 else []),
        share_texts={"linkedin": f"{title}: worth a read.", "x": f"{title} 👀"})


def draw_share_requests(p: Plan, feeds: set[tuple[str, str]], seed: int) -> None:
    """About four in ten feed entries are shared, on one of the person's networks; a few
    ask to share an item they did not get (refused by distribution)."""
    rng = random.Random(seed + 2)
    by_id = {person.advocate_id: person for person in p.people}
    for advocate_id, item_id in sorted(feeds):
        if rng.random() < 0.4:
            p.share_requests.append((advocate_id, item_id, Network(rng.choice(by_id[advocate_id].networks))))
    for person in rng.sample(p.people, max(1, len(p.people) // 50)):
        missed = [i for i in sorted(p.items) if (person.advocate_id, i) not in feeds]
        if missed:
            p.share_requests.append((person.advocate_id, rng.choice(missed), Network(person.networks[0])))


# --- the messages -----------------------------------------------------------------
# What acts for a person goes over the services' HTTP APIs, signed in as that person
# (front_door.py); the rest goes on Kafka, as HR, the editors' tool and connectors send it.

def consent_choices(p: Plan, versions: dict[Purpose, int]) -> list[list[Command]]:
    """Per person, their choices in the order they make them, each as that person."""
    return [[_choice(who, verb, purpose, versions) for verb, purpose in sequence] for who, sequence in p.choices.items()]


def _choice(who: str, verb: str, purpose: Purpose, versions: dict[Purpose, int]) -> Command:
    body = None if verb == WITHDRAW else {"policy_version": versions[purpose],
                                          "collection_method": CollectionMethod.MOBILE_APP.value}
    return Command("consent", f"/api/me/consents/{purpose.value}/{verb}", who, body)


def item_drafts(p: Plan) -> list:
    """Drafted and submitted by one editor, as the editors' tool sends them on Kafka."""
    return [step for item_id, content in p.items.items() for step in (
        curation.DraftItem(source=NEWSROOM, subject=item_id, data=curation.WriteItem(actor=EDITOR, content=content)),
        curation.SubmitItem(source=NEWSROOM, subject=item_id, data=curation.ItemAction(actor=EDITOR)))]


def approval(item_id: str, version: int) -> Command:
    """A second editor, signed in with the approver role, approves the version in review.
    An approval applied before its answer was lost meets an approved item on a retry."""
    return Command("curation", f"/api/items/{item_id}/approve", APPROVER, {"version": version}, roles=("approver",),
                   after_ambiguous=(ALREADY_APPLIED, "409 transition_not_allowed", "409 item_changed"))


def publications(p: Plan) -> list[curation.PublishItem]:
    return [curation.PublishItem(source=NEWSROOM, subject=item_id, data=curation.ItemAction(actor=APPROVER))
            for item_id in p.items]


def share_requests(p: Plan, feeds: set[tuple[str, str]]) -> list[Command]:
    """Each as the person; for an item not in their feed, refused `item_not_in_feed`."""
    return [Command("distribution", "/api/me/shares", who, {"item_id": item_id, "network": network.value},
                    expected=("201",) if (who, item_id) in feeds else ("404 item_not_in_feed",))
            for who, item_id, network in p.share_requests]
