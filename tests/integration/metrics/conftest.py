"""The metrics service on a scratch schema and fresh topics, serving HTTP on a free port;
`MetricsRig` plays the directory, consent, curation and distribution services and the
network connectors, reads reports over HTTP with the test issuer's tokens, and reads what
metrics emits."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from urllib.parse import urlencode

import httpx
import pytest

from harness.issuer import TestIssuer
from harness.kafka import drained, eventually
from schemas import consent, curation, directory, distribution, engagement
from schemas import metrics as m
from schemas.consent import ChangedBy, ConsentRecord, Purpose, Status
from services.metrics.app import build_service
from services.metrics.config import MetricsSettings, MetricsTopics
from tests.integration.rig import ServiceRig, make_rig, next_sequence

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERIOD = (date(2026, 3, 1), date(2026, 3, 31))  # what reports cover unless a test says otherwise
ANALYST = "analyst-0001"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class MetricsRig(ServiceRig):
    settings: MetricsSettings
    topics: MetricsTopics
    issuer: TestIssuer | None = None  # signs the tokens of the HTTP calls

    async def join(self, advocate: str, **profile) -> None:
        await self.send_to(self.topics.directory, directory.PersonJoined(source="/hr", subject=advocate, data=directory.Profile(
            advocate_id=advocate, role="employee", **profile)))

    def consent_event(self, advocate: str, purpose: Purpose, valid: bool = True, sequence: int | None = None):
        """A consent record as consent announces it; `sequence` (ADR 0019) above all before unless given."""
        kind, status = (consent.ConsentGiven, Status.GIVEN) if valid else (consent.ConsentWithdrawn, Status.WITHDRAWN)
        return kind(source="/advocacy/consent", subject=advocate, consentsequence=sequence or next_sequence(),
                    data=ConsentRecord(advocate_id=advocate, purpose=purpose, status=status, valid=valid,
                                       changed_by=ChangedBy.SUBJECT, changed_at=datetime.now(UTC), ledger_hash="0" * 64))

    async def consent(self, advocate: str, *purposes: Purpose, valid: bool = True) -> None:
        await self.send_to(self.topics.consent_events, *[self.consent_event(advocate, p, valid) for p in purposes])

    async def people(self, count: int, org_unit: str = "Sales", *purposes: Purpose, location: str = "Bern") -> list[str]:
        """`count` new people in the directory, each allowing `purposes`, once metrics knows them."""
        ids = [new_id("adv") for _ in range(count)]
        for advocate in ids:
            await self.join(advocate, org_unit=org_unit, location=location)
            if purposes:
                await self.consent(advocate, *purposes)
        await self.until("SELECT count(*) FROM people WHERE advocate_id = ANY($1)", count, ids)
        if purposes:
            await self.until("SELECT count(*) FROM consents WHERE advocate_id = ANY($1) AND valid", count * len(purposes), ids)
        return ids

    async def erase(self, advocate: str) -> None:
        await self.send_to(self.topics.consent_events, consent.AdvocateErased(
            source="/advocacy/consent", subject=advocate,
            data=consent.AdvocateErasure(advocate_id=advocate, erased_at=datetime.now(UTC))))

    async def campaign(self, campaign_id: str, name: str = "Spring hiring") -> None:
        await self.send_to(self.topics.curation_events, curation.CampaignCreated(
            source="/advocacy/curation", subject=campaign_id, data=curation.Campaign(
                campaign_id=campaign_id, name=name, goal="", starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31),
                topics=["jobs"], owner="editor-1")))

    async def item(self, item_id: str, title: str, campaign_id: str | None = None, topics=("jobs",)) -> None:
        await self.send_to(self.topics.curation_events, curation.ItemPublished(
            source="/advocacy/curation", subject=item_id, data=curation.PublishedItem(
                item_id=item_id, published_at=DAY, content=curation.ItemContent(
                    source_url="https://example.org/a", title=title, language="de", topics=list(topics),
                    campaign_id=campaign_id))))

    def share(self, advocate: str, item_id: str, network: str = "linkedin", campaign_id: str | None = None,
              at: datetime = DAY) -> distribution.ShareCreated:
        share_id = uuid.uuid4().hex
        return distribution.ShareCreated(source="/advocacy/distribution", subject=share_id, data=distribution.Share(
            share_id=share_id, advocate_id=advocate, item_id=item_id, campaign_id=campaign_id, network=network,
            text="t", tracked_url="https://r.example/r/x", share_intent_url=None, scheduled_at=None, created_at=at))

    def click(self, share: distribution.ShareCreated, visitor: str = "v1", at: datetime = DAY,
              bot: bool = False) -> distribution.LinkClicked:
        s = share.data
        return distribution.LinkClicked(source="/advocacy/distribution", subject=s.share_id, data=distribution.Click(
            share_id=s.share_id, item_id=s.item_id, campaign_id=s.campaign_id, network=s.network, visitor=visitor,
            bot=bot, clicked_at=at))

    def observed(self, share: distribution.ShareCreated, at: datetime = DAY, **counters) -> engagement.EngagementObserved:
        s = share.data
        return engagement.EngagementObserved(source="/connector", subject=s.share_id, data=engagement.Engagement(
            share_id=s.share_id, network=s.network, observed_at=at, **counters))

    # --- over HTTP, signed in ------------------------------------------------------------

    def token(self, advocate: str, *roles: str) -> str:
        return self.issuer.token(sub=advocate, realm_roles=roles)

    async def read(self, path: str, token: str | None, accept: str | None = None, **params) -> httpx.Response:
        """GET `path` with `params` (`from`, `to`: PERIOD unless given; `from_` for `from`)."""
        query = {"from": str(PERIOD[0]), "to": str(PERIOD[1]), **{k.rstrip("_"): v for k, v in params.items()}}
        return await self.get(f"{path}?{urlencode(query)}", token, {"Accept": accept} if accept else None)

    async def report(self, accept: str | None = None, **params) -> httpx.Response:
        """An analyst's report of PERIOD (or what `params` say)."""
        return await self.read("/api/reports", self.token(ANALYST, "analyst"), accept, **params)

    async def report_json(self, **params) -> dict:
        response = await self.report(**params)
        assert response.status_code == 200, response.text
        return response.json()

    async def events(self, match, at_least: int = 1, timeout: float = 20.0) -> list[dict]:
        return await self.until_emitted(match, at_least, timeout, "events from metrics")

    async def drained(self, *topics: str) -> None:
        """Wait until metrics has committed every record now on `topics` (each subscriber
        commits after its transaction, so everything before is counted)."""
        for topic in topics:
            await eventually(lambda topic=topic: drained(self.bootstrap, f"{self.settings.service}.{topic}", topic),
                             what=f"{topic} drained")



def report_command(report_id: str, actor: str = "editor-1", **data) -> m.RenderReport:
    return m.RenderReport(source="/app", subject=report_id, data=m.ReportRequest(
        report_id=report_id, actor=actor, **{"starts_on": date(2026, 3, 1), "ends_on": date(2026, 3, 31), **data}))


def impact_command(report_id: str, advocate: str, actor: str | None = None) -> m.RenderMyImpact:
    return m.RenderMyImpact(source="/app", subject=report_id, data=m.ImpactRequest(
        report_id=report_id, actor=actor or advocate, advocate_id=advocate,
        starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31)))


@pytest.fixture
async def metrics(stack, scratch_schema, make_topics, issuer) -> AsyncIterator[MetricsRig]:
    """Metrics serving HTTP on a free port, trusting the test issuer's tokens; a week that
    changed after its release is decided per report until released again (ADR 0023)."""
    async with make_rig(MetricsRig, stack, scratch_schema, make_topics, build_service, MetricsSettings, MetricsTopics,
                        identity=issuer.settings(), snapshot_seconds=0.2, release_seconds=0, ingest_batch_size=500) as rig:
        rig.issuer = issuer
        async with rig.serving():
            yield rig
