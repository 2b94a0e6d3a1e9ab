"""The people of the scenario and what each of them chooses, drawn from a seeded random
generator: the same size and seed give the same cast, so tests can know the outcome.

Everyone here can sign in: the advocates with the role `advocate`, and the staff who run
the campaign with theirs (STAFF). A person's advocate id is their id at the identity
provider, so it is what their tokens name (`sub`).
"""

import random
from dataclasses import dataclass, field

from schemas.consent import Purpose

ORG_UNITS = ("Sales", "Marketing", "Engineering", "Operations", "Finance", "HR")
LOCATIONS = {"Zurich": ("de", "en"), "Bern": ("de", "fr"), "Berlin": ("de",), "Vienna": ("de",), "Paris": ("fr", "en")}
ROLES = (("employee", 0.85), ("partner", 0.06), ("supplier", 0.04), ("agency", 0.02), ("press", 0.02), ("fan", 0.01))
INTERESTS = ("sustainability", "careers", "innovation", "events")
NETWORKS = ("linkedin", "x", "xing", "bluesky", "facebook", "mastodon")
DIGESTS = ("immediate", "daily", "weekly", "off")

# Who runs the campaign, by first name, with their realm roles. Ada drafts and may approve
# (other people's items: her own approval meets four eyes, not a missing role); Ben
# approves; Cleo reads reports; Pia is the privacy office and publishes the policy texts;
# Max, a manager, edits and takes part as an advocate, but is no privacy officer.
STAFF = {"ada": ("editor", "approver"), "ben": ("approver",), "cleo": ("analyst",),
         "pia": ("privacy_officer",), "max": ("editor", "advocate")}


@dataclass(frozen=True)
class Person:
    advocate_id: str
    role: str
    org_unit: str | None
    location: str
    languages: tuple[str, ...]
    interests: tuple[str, ...]
    digest: str
    networks: tuple[str, ...]


@dataclass(frozen=True)
class Answers:
    """What one person says: purposes given, refused, and withdrawn again later."""

    gives: frozenset[Purpose] = frozenset()
    refuses: frozenset[Purpose] = frozenset()
    withdraws: frozenset[Purpose] = frozenset()

    def holds(self, purpose: Purpose) -> bool:
        return purpose in self.gives and purpose not in self.withdraws

    @property
    def answered(self) -> bool:
        return bool(self.gives or self.refuses)


@dataclass
class Cast:
    tag: str
    people: list[Person] = field(default_factory=list)
    answers: dict[str, Answers] = field(default_factory=dict)

    def holding(self, purpose: Purpose) -> list[Person]:
        return [p for p in self.people if self.answers[p.advocate_id].holds(purpose)]

    def staff(self, name: str) -> str:
        """The advocate id of one of STAFF, in this run: `staff-<tag>-<name>`."""
        if name not in STAFF:
            raise KeyError(f"no {name!r} among the staff: {', '.join(STAFF)}")
        return f"staff-{self.tag}-{name}"

    def answering(self) -> list[Person]:
        """Those who answer anything (the others never sign in)."""
        return [p for p in self.people if self.answers[p.advocate_id].answered]


def cast(size: int, seed: int, tag: str) -> Cast:
    rng = random.Random(seed)
    result = Cast(tag)
    for n in range(size):
        role = rng.choices([r for r, _ in ROLES], [w for _, w in ROLES])[0]
        location = rng.choice(list(LOCATIONS))
        person = Person(
            advocate_id=f"adv-{tag}-{n:04d}", role=role,
            org_unit=rng.choice(ORG_UNITS) if role == "employee" else None, location=location,
            languages=LOCATIONS[location], interests=tuple(sorted(rng.sample(INTERESTS, rng.randint(0, 2)))),
            digest=rng.choice(DIGESTS), networks=tuple(sorted(rng.sample(NETWORKS, rng.randint(1, 3)))))
        result.people.append(person)
        result.answers[person.advocate_id] = _answers(rng)
    return result


def _answers(rng: random.Random) -> Answers:
    """About 70 % take part; of those some allow more; a few change their mind."""
    if rng.random() < 0.15:
        return Answers(refuses=frozenset({Purpose.RECEIVE_CONTENT}))
    if rng.random() < 0.15:
        return Answers()  # never answers: nothing reaches them
    gives = {Purpose.RECEIVE_CONTENT}
    for purpose, share in ((Purpose.SHARE_ATTRIBUTION, 0.6), (Purpose.NETWORK_REACH, 0.4),
                           (Purpose.LEADERBOARD, 0.3), (Purpose.SCHEDULED_SHARING, 0.2)):
        if rng.random() < share:
            gives.add(purpose)
    withdraws = {Purpose.RECEIVE_CONTENT} if rng.random() < 0.04 else set()
    return Answers(gives=frozenset(gives), withdraws=frozenset(withdraws))
