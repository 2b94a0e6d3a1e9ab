"""The scenario's messages: what HR and the content system send on Kafka, and what people's
apps send over HTTP once they signed in (request bodies of the services' APIs)."""

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from ops.scenario.cast import Cast, Person
from schemas import consent, curation, directory
from schemas.consent import CollectionMethod, Purpose

# Actors of the Kafka messages kept for systems and tests (tests/e2e/crash, benchmarks): on
# Kafka the actor is whatever the sender writes; over HTTP it is who signed in.
PRIVACY_OFFICE, EDITOR, APPROVER = "privacy-office", "editor-ada", "editor-ben"
POLICY_TEXTS = {
    Purpose.RECEIVE_CONTENT: "You receive curated content in your feed and notifications. You can stop at any time.",
    Purpose.SHARE_ATTRIBUTION: "Your shares and the clicks on them are counted as yours; only you see your figures.",
    Purpose.NETWORK_REACH: "Your follower count on a network may be used to estimate the reach of your shares.",
    Purpose.LEADERBOARD: "You appear in rankings among colleagues who also chose to appear.",
    Purpose.SCHEDULED_SHARING: "A connector may post a share for you at the time you choose.",
}


# --- on Kafka: HR, the content system, and the manager's attempt --------------------------

def joined(p: Person) -> directory.PersonJoined:
    return directory.PersonJoined(source="/hr", subject=p.advocate_id, data=directory.Profile(
        advocate_id=p.advocate_id, role=p.role, org_unit=p.org_unit, location=p.location, languages=list(p.languages),
        interests=list(p.interests), digest=p.digest, networks=list(p.networks)))


def policy(purpose: Purpose, version: int) -> consent.PublishPolicy:
    """The privacy office's tool publishing a policy text on Kafka."""
    return consent.PublishPolicy(source="/privacy-office", subject=purpose.value, data=consent.PolicyText(
        actor=PRIVACY_OFFICE, purpose=purpose, version=version, text=POLICY_TEXTS[purpose], requires_renewal=False))


def give_for_someone(manager: str, person: Person, version: int) -> consent.GiveConsent:
    """A manager's intranet tool writing a "yes" for one of their people onto Kafka, the way
    commands went before people signed in: the service refuses it (`sign_in_required`)."""
    return consent.GiveConsent(source="/intranet", subject=person.advocate_id, data=consent.Choice(
        actor=manager, advocate_id=person.advocate_id, purpose=Purpose.RECEIVE_CONTENT, policy_version=version,
        collection_method=CollectionMethod.WEB_FORM))


def campaign(cast: Cast) -> curation.CreateCampaign:
    """The campaign as a content system creates it on Kafka (the scenario's editor uses HTTP)."""
    return curation.CreateCampaign(source="/newsroom", subject=f"campaign-{cast.tag}",
                                   data=curation.CampaignDetails(actor=EDITOR, **campaign_body(cast, EDITOR)))


def item_steps(item_id: str, content: curation.ItemContent) -> list[
        curation.CurationCommand[curation.WriteItem] | curation.CurationCommand[curation.ItemAction]]:
    """An item as a content system sends it on Kafka: drafted, submitted, approved, released.
    Curation refuses the approval there (`sign_in_required`): only a signed-in approver
    approves, over HTTP."""
    src = "/newsroom"
    return [
        curation.DraftItem(source=src, subject=item_id, data=curation.WriteItem(actor=EDITOR, content=content)),
        curation.SubmitItem(source=src, subject=item_id, data=curation.ItemAction(actor=EDITOR)),
        curation.ApproveItem(source=src, subject=item_id, data=curation.ItemAction(actor=APPROVER)),
        curation.PublishItem(source=src, subject=item_id, data=curation.ItemAction(actor=APPROVER)),
    ]


# --- over HTTP: request bodies ------------------------------------------------------------

def policy_body(purpose: Purpose, version: int) -> dict[str, Any]:
    """POST /api/policies/{purpose}."""
    return {"version": version, "text": POLICY_TEXTS[purpose], "requires_renewal": False}


def choice_body(purpose: Purpose, versions: dict[Purpose, int]) -> dict[str, Any]:
    """POST /api/me/consents/{purpose}/give or /refuse: the version the person was shown."""
    return {"policy_version": versions[purpose], "collection_method": CollectionMethod.MOBILE_APP.value}


def campaign_body(cast: Cast, owner: str) -> dict[str, Any]:
    """POST /api/campaigns (less the campaign_id)."""
    today = date.today()
    return {"name": "Spring of Sustainability", "goal": "Show what our plants do for the climate",
            "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=30)).isoformat(),
            "topics": ["sustainability"], "owner": owner}


def item_body(item_id: str, content: curation.ItemContent) -> dict[str, Any]:
    """POST /api/items."""
    return {"item_id": item_id, "content": content.model_dump(mode="json", exclude_none=True)}


def items(cast: Cast) -> dict[str, curation.ItemContent]:
    common = {"campaign_id": f"campaign-{cast.tag}", "disclosure": "#employee", "summary": "Read more on our site."}
    return {
        f"item-{cast.tag}-solar": curation.ItemContent(
            source_url="https://example.com/news/solar-roof", title="Our plant in Bern now runs on its own roof",
            language="de", topics=["sustainability"],
            # The empty lists are the defaults, written out: pydantic's mypy plugin does not see a
            # default inside Annotated (schemas.curation.Labels; pydantic/pydantic#11036).
            audience=curation.Audience(roles=["employee"], org_units=[], locations=[], topics=[]),
            share_texts={"linkedin": "Unser Werk in Bern produziert jetzt seinen eigenen Strom.",
                         "x": "Bern läuft jetzt mit Sonnenstrom vom eigenen Dach ☀️"}, **common),
        f"item-{cast.tag}-jobs": curation.ItemContent(
            source_url="https://example.com/careers/engineers", title="We are hiring energy engineers",
            language="en", topics=["careers"], content_type="job",
            share_texts={"linkedin": "We are hiring energy engineers. Know someone?", "x": "We're hiring!"}, **common),
        f"item-{cast.tag}-forum": curation.ItemContent(
            source_url="https://example.com/events/forum", title="Forum climat à Paris", language="fr",
            topics=["events", "sustainability"], content_type="event",
            publish_at=datetime.now(UTC) + timedelta(seconds=8),
            share_texts={"linkedin": "Rejoignez-nous au forum climat à Paris."}, **common),
    }


class PlannedShare(NamedTuple):
    advocate_id: str
    item_id: str
    network: str
    scheduled: bool  # a connector posts it a few seconds after it is asked for

    def body(self, now: datetime) -> dict[str, Any]:
        """POST /api/me/shares."""
        body = {"item_id": self.item_id, "network": self.network}
        return body | {"scheduled_at": (now + SCHEDULED_AFTER).isoformat()} if self.scheduled else body


SCHEDULED_AFTER = timedelta(seconds=6)


def share_plan(cast: Cast, feeds: dict[str, list[str]], rng: random.Random) -> list[PlannedShare]:
    """About four in ten entries of this run's items in people's feeds are shared, each on
    one of the person's networks; some of those who allow scheduled sharing schedule the
    post. `feeds`: advocate id -> item ids, drawn in sorted order so that a seed gives the
    same plan."""
    by_id = {p.advocate_id: p for p in cast.people}
    plan = []
    for advocate_id in sorted(feeds):
        for item_id in sorted(feeds[advocate_id]):
            if rng.random() < 0.4:
                schedules = cast.answers[advocate_id].holds(Purpose.SCHEDULED_SHARING) and rng.random() < 0.3
                plan.append(PlannedShare(advocate_id, item_id, rng.choice(by_id[advocate_id].networks), schedules))
    return plan
