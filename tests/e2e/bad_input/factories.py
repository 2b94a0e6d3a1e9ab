"""Valid messages of each kind the corpus spoils, all about the run's own ids (`tag`)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from schemas import consent, curation, directory, distribution, engagement, metrics
from schemas.consent import CollectionMethod, Purpose
from schemas.directory import Network, Role

SOURCE = "/bad-input"
NOW = datetime.now(UTC)
TODAY = NOW.date()


class Ids:
    """Fresh, valid ids under one tag: `ids.new("item")` → `<tag>-item-0001`."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.count = 0

    def new(self, kind: str) -> str:
        self.count += 1
        return f"{self.tag}-{kind}-{self.count:04d}"


def content(tag: str, **changes: Any) -> curation.ItemContent:
    """A complete item, only for an org unit nobody is in (no fan-out on the shared platform)."""
    fields: dict[str, Any] = {
        "source_url": "https://example.com/news/1", "title": "Quarterly news", "summary": "Read more.",
        "language": "en", "disclosure": "#employee", "share_texts": {Network.LINKEDIN: "Worth a read."},
        "audience": curation.Audience(org_units=[tag])}
    return curation.ItemContent(**(fields | changes))


def draft(ids: Ids, **changes: Any) -> curation.DraftItem:
    return curation.DraftItem(source=SOURCE, subject=ids.new("item"),
                              data=curation.WriteItem(actor=ids.new("editor"), content=content(ids.tag, **changes)))


def campaign(ids: Ids, name: str) -> curation.CreateCampaign:
    return curation.CreateCampaign(source=SOURCE, subject=ids.new("campaign"), data=curation.CampaignDetails(
        actor=ids.new("editor"), name=name, starts_on=TODAY - timedelta(days=30), ends_on=TODAY + timedelta(days=30),
        owner=ids.new("editor")))


def person(ids: Ids, **changes: Any) -> directory.PersonJoined:
    advocate = ids.new("adv")
    profile = directory.Profile(**({"advocate_id": advocate, "role": Role.EMPLOYEE, "org_unit": ids.tag} | changes))
    return directory.PersonJoined(source=SOURCE, subject=advocate, data=profile)


def give(ids: Ids, advocate: str | None = None, actor: str | None = None) -> consent.GiveConsent:
    advocate = advocate or ids.new("adv")
    return consent.GiveConsent(source=SOURCE, subject=advocate, data=consent.Choice(
        actor=actor or advocate, advocate_id=advocate, purpose=Purpose.RECEIVE_CONTENT, policy_version=1,
        collection_method=CollectionMethod.API))


def refuse(ids: Ids) -> consent.RefuseConsent:
    advocate = ids.new("adv")
    return consent.RefuseConsent(source=SOURCE, subject=advocate, data=consent.Choice(
        actor=advocate, advocate_id=advocate, purpose=Purpose.LEADERBOARD, policy_version=1,
        collection_method=CollectionMethod.API))


def withdraw(ids: Ids) -> consent.WithdrawConsent:
    advocate = ids.new("adv")
    return consent.WithdrawConsent(source=SOURCE, subject=advocate,
                                   data=consent.Withdrawal(actor=advocate, advocate_id=advocate))


def consent_given(ids: Ids) -> consent.ConsentGiven:
    advocate = ids.new("adv")
    return consent.ConsentGiven(source=SOURCE, subject=advocate, data=consent.ConsentRecord(
        advocate_id=advocate, purpose=Purpose.LEADERBOARD, status=consent.Status.GIVEN, valid=True,
        changed_by=consent.ChangedBy.SUBJECT, changed_at=NOW, ledger_hash="0" * 64))


def share_request(ids: Ids, **changes: Any) -> distribution.RequestShare:
    advocate = ids.new("adv")
    request = {"actor": advocate, "advocate_id": advocate, "item_id": ids.new("item"), "network": Network.LINKEDIN}
    return distribution.RequestShare(source=SOURCE, subject=advocate,
                                     data=distribution.ShareRequest(**(request | changes)))


def cancel_share(ids: Ids) -> distribution.CancelShare:
    advocate = ids.new("adv")
    return distribution.CancelShare(source=SOURCE, subject=advocate, data=distribution.ShareCancellation(
        actor=advocate, advocate_id=advocate, share_id=ids.new("share")))


def report(ids: Ids, **changes: Any) -> metrics.RenderReport:
    report_id = ids.new("report")
    request = {"actor": ids.new("analyst"), "report_id": report_id, "starts_on": TODAY - timedelta(days=1),
               "ends_on": TODAY + timedelta(days=1), "campaign_id": ids.new("campaign")}
    return metrics.RenderReport(source=SOURCE, subject=report_id, data=metrics.ReportRequest(**(request | changes)))


def impact(ids: Ids, advocate: str, actor: str) -> metrics.RenderMyImpact:
    report_id = ids.new("report")
    return metrics.RenderMyImpact(source=SOURCE, subject=report_id, data=metrics.ImpactRequest(
        actor=actor, report_id=report_id, advocate_id=advocate, starts_on=TODAY, ends_on=TODAY))


def published(ids: Ids, item_id: str | None = None, **changes: Any) -> curation.ItemPublished:
    item_id = item_id or ids.new("item")
    return curation.ItemPublished(source=SOURCE, subject=item_id, data=curation.PublishedItem(
        item_id=item_id, content=content(ids.tag, **changes), published_at=NOW))


def share_created(ids: Ids, item_id: str, campaign_id: str | None = None) -> distribution.ShareCreated:
    share_id = ids.new("share")
    return distribution.ShareCreated(source=SOURCE, subject=share_id, data=distribution.Share(
        share_id=share_id, advocate_id=ids.new("adv"), item_id=item_id, campaign_id=campaign_id,
        network=Network.LINKEDIN, text="Worth a read.", tracked_url="https://example.com/r/abcdefgh", created_at=NOW))


def observed(ids: Ids, **counters: int) -> engagement.EngagementObserved:
    share_id = ids.new("share")
    return engagement.EngagementObserved(source=SOURCE, subject=share_id, data=engagement.Engagement(
        share_id=share_id, network=Network.LINKEDIN, observed_at=NOW, **counters))


def followers(ids: Ids) -> engagement.FollowersReported:
    advocate = ids.new("adv")
    return engagement.FollowersReported(source=SOURCE, subject=advocate, data=engagement.Followers(
        advocate_id=advocate, network=Network.X, followers=120, observed_at=NOW))
