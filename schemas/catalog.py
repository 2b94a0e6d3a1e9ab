"""Every contract of the platform, by topic. Add a model here when you add one to schemas/."""

from typing import Any

from schemas import consent, curation, directory, distribution, engagement, metrics
from schemas.envelope import CloudEvent

CONTRACTS: dict[str, list[type[CloudEvent[Any]]]] = {
    directory.TOPIC: [directory.PersonJoined, directory.PersonChanged, directory.PersonLeft],
    curation.COMMANDS_TOPIC: list(curation.COMMANDS),
    curation.EVENTS_TOPIC: list(curation.EVENTS),
    consent.COMMANDS_TOPIC: [consent.GiveConsent, consent.RefuseConsent, consent.WithdrawConsent,
                             consent.PublishPolicy, consent.EraseAdvocate, consent.VerifyLedger],
    consent.EVENTS_TOPIC: [consent.ConsentGiven, consent.ConsentRefused, consent.ConsentWithdrawn,
                           consent.ConsentRevoked, consent.ConsentExpired, consent.ConsentRenewalRequested,
                           consent.PolicyPublished, consent.AdvocateErased, consent.LedgerVerified,
                           consent.ConsentCommandRejected],
    consent.STATE_TOPIC: [consent.ConsentState],
    consent.POLICIES_TOPIC: [consent.PolicyCurrent],
    distribution.COMMANDS_TOPIC: [distribution.RequestShare, distribution.CancelShare],
    distribution.EVENTS_TOPIC: [distribution.ItemDistributedV1, distribution.NotificationRequested,
                                distribution.ShareCreated, distribution.ShareCancelled, distribution.LinkClicked,
                                distribution.DistributionCommandRejected],
    distribution.POSTS_TOPIC: [distribution.PublishRequested, distribution.PublishCancelled,
                               distribution.RetractionRequested],
    distribution.ITEMS_TOPIC: [distribution.ItemDistributed, distribution.ItemAudienceGrew],
    engagement.TOPIC: [engagement.SharePublished, engagement.ShareFailed, engagement.EngagementObserved,
                       engagement.FollowersReported],
    metrics.COMMANDS_TOPIC: [metrics.RenderReport, metrics.RenderMyImpact],
    metrics.EVENTS_TOPIC: [metrics.MetricSnapshot, metrics.ReportRendered, metrics.MetricsCommandRejected],
}

SERVICES = ("curation", "consent", "distribution", "metrics")
