"""Bad input against the four services as processes (issue #8): a hand-labelled corpus and
hypothesis-generated inputs on every topic a service reads. Every input is accounted for —
handled + rejected + dead-lettered = sent, per service — each corpus case gets the outcome
written beside it, no service stops, and a valid message after the bad ones is still answered.
A person's commands on Kafka (a give, a share, a report …) are refused `sign_in_required`:
they are taken over HTTP, signed in, where each service's API tests try bad input on them."""

import asyncio
import html
from datetime import timedelta

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError

from harness.kafka import eventually, message_count
from harness.processes import ready
from schemas import consent
from tests.e2e.bad_input import accounting, factories
from tests.e2e.bad_input.corpus import Corpus
from tests.e2e.bad_input.corpus_content import CANARY, IMG, SCRIPT
from tests.e2e.bad_input.corpus_envelope import sentinels
from tests.e2e.bad_input.generate import generated
from tests.e2e.bad_input.play import play


async def test_every_bad_input_is_accounted_for_and_no_service_stops(
        stack, signed_in_services, issuer, outcomes, run, bad_input_figures):
    corpus = Corpus(run.tag)
    batch = corpus.labelled() + generated(run.generated_per_topic, run.tag, run.seed)
    if run.full:
        batch += corpus.edge_texts_everywhere()
    accounts = await play(outcomes, stack.kafka_bootstrap, batch, sentinels(corpus.ids), run.timeout)
    bad_input_figures.update(seed=run.seed, **accounting.figures(accounts))

    lost_or_doubled = accounting.unaccounted(accounts)
    assert not lost_or_doubled, "\n".join(map(str, lost_or_doubled))
    assert not (wrong := accounting.against_the_label(accounts)), "\n".join(map(str, wrong))
    assert not (slipped := accounting.refused_yet_not_dead_lettered(accounts)), "\n".join(map(str, slipped))
    # Dead letters name fields and error types, never the values sent.
    echoed = [h for h in outcomes.dead.values() if CANARY in h["dlq-error-message"]]
    assert not echoed, echoed
    for name, port in signed_in_services.items():
        assert await asyncio.to_thread(ready, port), f"{name} is not ready after the bad input"

    # Script in texts stays text: the campaign report (HTML), as an analyst reads it, shows it escaped.
    await eventually(lambda: _knows_campaign_and_share(stack.admin_dsn, corpus), timeout=run.timeout,
                     what="metrics to know the script campaign and its share")
    period = {"from": (factories.TODAY - timedelta(days=1)).isoformat(),
              "to": (factories.TODAY + timedelta(days=1)).isoformat()}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{signed_in_services['metrics']}", timeout=30) as client:
        response = await client.get("/api/reports", params={**period, "campaign_id": corpus.script_campaign},
                                    headers={"Accept": "text/html", "Authorization": "Bearer " + issuer.token(
                                        corpus.ids.new("analyst"), realm_roles=("analyst",))})
    assert response.status_code == 200, response.text
    page = response.text
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert html.escape(SCRIPT) in page and html.escape(IMG) in page


async def test_a_payload_over_1_mb_is_refused_at_the_door(stack):
    """Kafka's default limit (1 MB) holds on every topic: the producer refuses a bigger message,
    and a producer that allows more is refused by the broker. Nothing reaches a service."""
    before = await message_count(stack.kafka_bootstrap, consent.COMMANDS_TOPIC)
    oversized = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    for max_request_size in (1024 * 1024, 8 * 1024 * 1024):  # the client's default, then the broker's say
        producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, enable_idempotence=True,
                                    max_request_size=max_request_size)
        await producer.start()
        try:
            with pytest.raises(MessageSizeTooLargeError):
                await (await producer.send(consent.COMMANDS_TOPIC, oversized, key=b"oversized"))
        finally:
            await producer.stop()
    assert await message_count(stack.kafka_bootstrap, consent.COMMANDS_TOPIC) == before


async def _knows_campaign_and_share(admin_dsn: str, corpus: Corpus) -> bool:
    conn = await asyncpg.connect(admin_dsn)
    try:
        return bool(await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM metrics.campaigns WHERE campaign_id = $1) "
            "AND EXISTS (SELECT 1 FROM metrics.shares WHERE item_id = $2)", corpus.script_campaign, corpus.script_item))
    finally:
        await conn.close()
