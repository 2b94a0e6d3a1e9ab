"""The ops CLI publishes as docs/partners.md asks any publisher to: keyed by the event's
subject, with the header `content-type: application/cloudevents+json`."""

from aiokafka import AIOKafkaConsumer

from ops.bus import publish
from schemas.directory import PersonJoined, Profile, Role


async def test_a_published_event_is_keyed_by_its_subject_and_says_its_content_type(stack, make_topics):
    (topic,) = await make_topics("ops-publish", partitions=1)
    event = PersonJoined(source="/hr", subject="adv-000001", data=Profile(advocate_id="adv-000001", role=Role.EMPLOYEE))

    await publish(stack.kafka_bootstrap, topic, [event])

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=stack.kafka_bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        record = await consumer.getone()
    finally:
        await consumer.stop()
    assert record.key == b"adv-000001"
    assert ("content-type", b"application/cloudevents+json") in record.headers
    assert PersonJoined.model_validate_json(record.value).id == event.id
