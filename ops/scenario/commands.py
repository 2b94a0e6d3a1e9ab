"""The scenario's messages, as HR, the advocates' app and the editors' tool would send them."""

from datetime import UTC, date, datetime, timedelta

from ops.scenario.cast import Cast, Person
from schemas import consent, curation, directory, distribution
from schemas.consent import CollectionMethod, Purpose

PRIVACY_OFFICE, EDITOR, APPROVER, MANAGER = "privacy-office", "editor-ada", "editor-ben", "manager-max"
POLICY_TEXTS = {
    Purpose.RECEIVE_CONTENT: "You receive curated content in your feed and notifications. You can stop at any time.",
    Purpose.SHARE_ATTRIBUTION: "Your shares and the clicks on them are counted as yours; only you see your figures.",
    Purpose.NETWORK_REACH: "Your follower count on a network may be used to estimate the reach of your shares.",
    Purpose.LEADERBOARD: "You appear in rankings among colleagues who also chose to appear.",
    Purpose.SCHEDULED_SHARING: "A connector may post a share for you at the time you choose.",
}


def joined(p: Person) -> directory.PersonJoined:
    return directory.PersonJoined(source="/hr", subject=p.advocate_id, data=directory.Profile(
        advocate_id=p.advocate_id, role=p.role, org_unit=p.org_unit, location=p.location, languages=list(p.languages),
        interests=list(p.interests), digest=p.digest, networks=list(p.networks)))


def policy(purpose: Purpose, version: int) -> consent.PublishPolicy:
    return consent.PublishPolicy(source="/privacy-office", subject=purpose.value, data=consent.PolicyText(
        actor=PRIVACY_OFFICE, purpose=purpose, version=version, text=POLICY_TEXTS[purpose], requires_renewal=False))


def choices(cast: Cast, versions: dict[Purpose, int]) -> list:
    """Gives and refusals first, then the withdrawals: per advocate, Kafka keeps this order."""
    first, then = [], []
    for person in cast.people:
        a, who = cast.answers[person.advocate_id], person.advocate_id
        for purpose in sorted(a.gives):
            first.append(consent.GiveConsent(source="/app", subject=who, data=_choice(who, who, purpose, versions)))
        for purpose in sorted(a.refuses):
            first.append(consent.RefuseConsent(source="/app", subject=who, data=_choice(who, who, purpose, versions)))
        for purpose in sorted(a.withdraws):
            then.append(consent.WithdrawConsent(source="/app", subject=who, data=consent.Withdrawal(
                actor=who, advocate_id=who, purpose=purpose)))
    return first + then


def manager_opts_in(person: Person, versions: dict[Purpose, int]) -> consent.GiveConsent:
    """What the people this is built for called intrusive: a boss deciding for them."""
    return consent.GiveConsent(source="/intranet", subject=person.advocate_id,
                               data=_choice(MANAGER, person.advocate_id, Purpose.RECEIVE_CONTENT, versions))


def _choice(actor: str, who: str, purpose: Purpose, versions: dict[Purpose, int]) -> consent.Choice:
    return consent.Choice(actor=actor, advocate_id=who, purpose=purpose, policy_version=versions[purpose],
                          collection_method=CollectionMethod.MOBILE_APP)


def campaign(cast: Cast) -> curation.CreateCampaign:
    today = date.today()
    return curation.CreateCampaign(source="/newsroom", subject=f"campaign-{cast.tag}", data=curation.CampaignDetails(
        actor=EDITOR, name="Spring of Sustainability", goal="Show what our plants do for the climate",
        starts_on=today, ends_on=today + timedelta(days=30), topics=["sustainability"], owner=EDITOR))


def items(cast: Cast) -> dict[str, curation.ItemContent]:
    common = {"campaign_id": f"campaign-{cast.tag}", "disclosure": "#employee", "summary": "Read more on our site."}
    return {
        f"item-{cast.tag}-solar": curation.ItemContent(
            source_url="https://example.com/news/solar-roof", title="Our plant in Bern now runs on its own roof",
            language="de", topics=["sustainability"], audience=curation.Audience(roles=["employee"]),
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


def item_steps(item_id: str, content: curation.ItemContent) -> list:
    """Drafted by one editor, submitted, approved by a second, released."""
    src = "/newsroom"
    return [
        curation.DraftItem(source=src, subject=item_id, data=curation.WriteItem(actor=EDITOR, content=content)),
        curation.SubmitItem(source=src, subject=item_id, data=curation.ItemAction(actor=EDITOR)),
        curation.ApproveItem(source=src, subject=item_id, data=curation.ItemAction(actor=APPROVER)),
        curation.PublishItem(source=src, subject=item_id, data=curation.ItemAction(actor=APPROVER)),
    ]


def self_approval(item_id: str) -> curation.ApproveItem:
    return curation.ApproveItem(source="/newsroom", subject=item_id, data=curation.ItemAction(actor=EDITOR))


def share_requests(cast: Cast, feed: list[tuple[str, str]], rng) -> list[distribution.RequestShare]:
    """About four in ten feed entries are shared, each on one of the person's networks; some
    of those who allow scheduled sharing schedule the post for a few seconds later."""
    by_id = {p.advocate_id: p for p in cast.people}
    soon = datetime.now(UTC) + timedelta(seconds=6)
    requests = []
    for advocate_id, item_id in feed:
        if rng.random() < 0.4:
            person = by_id[advocate_id]
            schedules = cast.answers[advocate_id].holds(Purpose.SCHEDULED_SHARING) and rng.random() < 0.3
            requests.append(distribution.RequestShare(source="/app", subject=advocate_id, data=distribution.ShareRequest(
                actor=advocate_id, advocate_id=advocate_id, item_id=item_id, network=rng.choice(person.networks),
                scheduled_at=soon if schedules else None)))
    return requests
