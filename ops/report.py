"""`advocacy report`: ask the metrics service for a campaign or period report and wait
for it, as an editor's tool would (a command on Kafka, the answer on Kafka)."""

import asyncio
import uuid
from datetime import date

from ops.bus import Tail, publish
from schemas import metrics

EDITORS_TOOL = "ops-cli"


async def request(bootstrap: str, starts_on: date, ends_on: date, campaign_id: str | None,
                  actor: str = EDITORS_TOOL, timeout: float = 60.0) -> dict:
    """The `report.rendered` event (paths of the HTML and JSON), or the rejection."""
    report_id = f"report-{uuid.uuid4().hex[:12]}"
    tail = await Tail(bootstrap, metrics.EVENTS_TOPIC).start()
    try:
        await publish(bootstrap, metrics.COMMANDS_TOPIC, [metrics.RenderReport(
            source="/ops", subject=report_id, data=metrics.ReportRequest(
                actor=actor, report_id=report_id, starts_on=starts_on, ends_on=ends_on, campaign_id=campaign_id))])
        for _ in range(int(timeout / 0.2)):
            for kind in ("advocacy.metrics.report.rendered.v1", "advocacy.metrics.command.rejected.v1"):
                answers = [e for e in tail.of(kind) if e["subject"] == report_id]
                if answers:
                    return answers[0]
            await asyncio.sleep(0.2)
        raise TimeoutError(f"no answer to report {report_id} within {timeout:.0f}s: is the metrics service up?")
    finally:
        await tail.stop()

