"""What metrics does with what it hears: consent, curated items and campaigns, the directory,
and — in batches — shares, clicks and connectors' observations. Commands are in commands.py."""

from faststream import Context
from faststream.kafka.annotations import KafkaMessage

from schemas import consent, curation
from schemas.metrics import MetricsEvent
from services.metrics import store
from services.metrics.config import MetricsSettings, MetricsTopics
from services.metrics.ingest import Counted, count
from services.runtime import directory
from services.runtime.inbox import Inbox
from services.runtime.routing import ServiceRouter
from services.runtime.unit_of_work import UnitOfWork


async def apply_consent(uow: UnitOfWork, event: consent.ConsentEvent) -> None:
    if isinstance(event, consent.AdvocateErased):
        await store.erase(uow.conn, event.data.advocate_id)
    elif isinstance(event.data, consent.ConsentRecord) and event.data.purpose.value in store.PURPOSES:
        record = event.data
        await store.set_consent(uow.conn, record.advocate_id, record.purpose.value, record.valid)


async def apply_curation(uow: UnitOfWork, event: curation.AnyEvent) -> None:
    if isinstance(event, curation.ItemPublished | curation.ItemUpdated):
        item = event.data
        await store.save_item(uow.conn, item.item_id, item.content.campaign_id, item.content.title,
                              list(item.content.topics))
    elif isinstance(event, curation.CampaignCreated | curation.CampaignChanged):
        c = event.data
        await store.save_campaign(uow.conn, c.campaign_id, c.name, c.starts_on, c.ends_on)


def subscribe(router: ServiceRouter, settings: MetricsSettings, topics: MetricsTopics) -> None:
    directory.follow(router, topics.directory, settings.event_batch_size)

    @router.subscriber(topics.consent_events, title="metrics:consent")
    async def on_consent_event(event: consent.ConsentEvent, inbox: Inbox = Context()) -> None:
        await inbox.handle_once(event, apply_consent)

    @router.subscriber(topics.curation_events, title="metrics:curation")
    async def on_curation_event(event: curation.AnyEvent, inbox: Inbox = Context()) -> None:
        await inbox.handle_once(event, apply_curation)

    # Shares and clicks, observations and follower counts: counted in big batches, one
    # transaction each; the raw records go to the inbox, which decodes each on its own.
    for topic, name in ((topics.distribution_events, "distribution"), (topics.engagement, "engagement")):
        @router.subscriber(topic, title=f"metrics:{name}", batch=True, max_records=settings.ingest_batch_size)
        async def on_counted_batch(values: list[bytes], message: KafkaMessage, inbox: Inbox = Context()) -> None:
            await inbox.handle_batch_once(message.raw_message, Counted, count)

    # Events leave through the outbox; declared here so the AsyncAPI document shows them.
    router.publisher(topics.events, title="metrics:events", schema=MetricsEvent)
