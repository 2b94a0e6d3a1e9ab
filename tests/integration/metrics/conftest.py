"""The metrics service on a scratch schema and fresh topics, serving HTTP on a free port;
`MetricsRig` plays the directory, consent, curation and distribution services and the
network connectors, asks for reports and reads what metrics emits."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from harness.kafka import eventually
from schemas import consent, curation, directory, distribution, engagement
from schemas import metrics as m
from schemas.consent import ChangedBy, ConsentRecord, Purpose, Status
from services.metrics.app import build_service
from services.metrics.config import MetricsSettings, MetricsTopics
from tests.integration.rig import ServiceRig, make_rig

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class MetricsRig(ServiceRig):
    settings: MetricsSettings
    topics: MetricsTopics

    async def join(self, advocate: str, **profile) -> None:
        await self.send_to(self.topics.directory, directory.PersonJoined(source="/hr", subject=advocate, data=directory.Profile(
            advocate_id=advocate, role="employee", **profile)))

    async def consent(self, advocate: str, *purposes: Purpose, valid: bool = True) -> None:
        kind, status = (consent.ConsentGiven, Status.GIVEN) if valid else (consent.ConsentWithdrawn, Status.WITHDRAWN)
        await self.send_to(self.topics.consent_events, *[kind(source="/advocacy/consent", subject=advocate, data=ConsentRecord(
            advocate_id=advocate, purpose=p, status=status, valid=valid, changed_by=ChangedBy.SUBJECT,
            changed_at=datetime.now(UTC), ledger_hash="0" * 64)) for p in purposes])

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

    async def render(self, command) -> dict:
        """Send a report command and wait for its answer (rendered or rejected)."""
        await self.send_to(self.topics.commands, command)
        [answer] = await self.events(lambda e: e["type"] != m.MetricSnapshot.model_fields["type"].default
                                     and e["subject"] == command.subject)
        return answer

    async def events(self, match, at_least: int = 1, timeout: float = 20.0) -> list[dict]:
        return await self.until_emitted(match, at_least, timeout, "events from metrics")

    async def drained(self, *topics: str) -> None:
        """Wait until metrics has committed every record now on `topics` (each subscriber
        commits after its transaction, so everything before is counted)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
        await admin.start()
        await consumer.start()
        try:
            for topic in topics:
                [description] = await admin.describe_topics([topic])
                ends = await consumer.end_offsets([TopicPartition(topic, p["partition"]) for p in description["partitions"]])

                async def committed(topic=topic, ends=ends) -> bool:
                    offsets = await admin.list_consumer_group_offsets(f"{self.settings.service}.{topic}")
                    return all(offsets.get(tp) is not None and offsets[tp].offset >= end for tp, end in ends.items())

                await eventually(committed, what=f"{topic} drained")
        finally:
            await consumer.stop()
            await admin.close()



def report_command(report_id: str, actor: str = "editor-1", **data) -> m.RenderReport:
    return m.RenderReport(source="/app", subject=report_id, data=m.ReportRequest(
        report_id=report_id, actor=actor, **{"starts_on": date(2026, 3, 1), "ends_on": date(2026, 3, 31), **data}))


def impact_command(report_id: str, advocate: str, actor: str | None = None) -> m.RenderMyImpact:
    return m.RenderMyImpact(source="/app", subject=report_id, data=m.ImpactRequest(
        report_id=report_id, actor=actor or advocate, advocate_id=advocate,
        starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31)))


@pytest.fixture
async def metrics(stack, scratch_schema, make_topics, tmp_path) -> AsyncIterator[MetricsRig]:
    """Metrics serving HTTP on a free port, reports in a temporary folder."""
    async with make_rig(MetricsRig, stack, scratch_schema, make_topics, build_service, MetricsSettings, MetricsTopics,
                        report_dir=tmp_path / "reports", snapshot_seconds=0.2, ingest_batch_size=500) as rig:
        async with rig.serving():
            yield rig
