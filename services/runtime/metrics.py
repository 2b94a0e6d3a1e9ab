"""Prometheus metrics every service exposes on /metrics."""

from prometheus_client import Counter, Gauge, Histogram

HANDLED = Counter(
    "advocacy_messages_handled_total", "Messages handled, by outcome (applied or duplicate)",
    ["service", "event_type", "outcome"],
)
REJECTED = Counter(
    "advocacy_commands_rejected_total", "Commands rejected with a reason", ["service", "reason"],
)
TOMBSTONES = Counter(
    "advocacy_tombstones_skipped_total", "Records without a value (a compacted topic's deletion of a key): no event",
    ["service", "topic"],
)
DEAD_LETTERED = Counter(
    "advocacy_dead_letters_total", "Messages sent to the dead-letter topic", ["service", "topic", "error_type"],
)
HANDLER_SECONDS = Histogram(
    "advocacy_handler_seconds", "Time to handle one message or batch, commit included", ["service", "event_type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_RESPONSES = Counter(
    "advocacy_http_responses_total", "Answers on the public port, by where (api, r: the redirect, other) and status",
    ["service", "path", "status"],
)
OUTBOX_BACKLOG = Gauge("advocacy_outbox_backlog", "Events waiting in the outbox", ["service"])
OUTBOX_PUBLISHED = Counter("advocacy_outbox_published_total", "Events the relay published", ["service"])
SCHEDULE_FAILURES = Gauge("advocacy_schedule_failures", "Consecutive failed passes of a schedule",
                          ["source", "schedule"])
