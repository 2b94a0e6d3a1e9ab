"""Dead letters: a message that cannot be decoded, validated or handled goes to the
service's dead-letter topic with the reason in headers, and the consumer carries on.

A letter keeps the original key and value only when it comes from a topic declared not
personal (`personal = false` in schemas/platform.toml): anything else may be about a person,
and a refused message is exactly what nobody checked (an e-mail address where an id belongs).
Such a letter is headers only: the reason, where the original is (topic, partition, offset) and,
when the value is a JSON event, its id and type. Operators replay from that offset
(ops/dead_letters.py), for as long as the source topic keeps it (ADR 0018).

A broker middleware, so it sees every subscriber's failures, FastStream's own
decoding and validation errors included. Transient faults are not its business:
they propagate, and the message is handed back to Kafka to be retried.
"""

import json
import logging
import re
from collections.abc import Collection
from types import TracebackType
from typing import Any

import asyncpg
from aiokafka import ConsumerRecord
from aiokafka.errors import MessageSizeTooLargeError
from faststream import BaseMiddleware
from faststream.exceptions import HandlerException
from faststream.kafka import KafkaBroker
from pydantic import ValidationError

from services.runtime import metrics
from services.runtime.retry import is_transient

log = logging.getLogger(__name__)


def describe(error: Exception) -> str:
    """The reason, without echoing input values: those may hold personal data."""
    if isinstance(error, ValidationError):
        return "; ".join(_validation_error(e) for e in error.errors(include_input=False, include_url=False))[:2000]
    if isinstance(error, asyncpg.DataError) and error.__cause__ is not None:
        # asyncpg quotes the argument (up to 40 characters of it) in its message: "invalid input
        # for query argument $2: 'the value…' (reason)". Keep the argument's number and the reason.
        argument = str(error).split(":", 1)[0]
        cause = error.__cause__
        return f"{argument}: {type(cause).__name__}: {getattr(cause, 'reason', None) or cause}"[:2000]
    if isinstance(error, asyncpg.PostgresError) and str(getattr(error, "sqlstate", "")).startswith("22"):
        # A data exception (SQLSTATE class 22) names the value Postgres could not take, in
        # double quotes: 'value "3000000000" is out of range for type integer'. Everything
        # from the first quote to the last goes, whatever quotes the value itself holds.
        return f"{error.sqlstate}: {_QUOTED.sub('…', str(error))}"[:2000]
    return str(error)[:2000]


_QUOTED = re.compile(r'".*"', re.DOTALL)
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # what a contract's field could be called


def _validation_error(error: Any) -> str:
    """`field.path: message` of one of pydantic's errors, without what was sent where pydantic
    puts it in anyway: the tag of a discriminated union is quoted in its message, and the name
    of a field not in the contract is the path's last step (kept if it could be a field's
    name, which tells the sender what to remove)."""
    loc, message = list(error["loc"]), error["msg"]
    if error["type"] == "union_tag_invalid":
        message = f"the tag found using {error['ctx']['discriminator']} is none of {error['ctx']['expected_tags']}"
    elif error["type"] == "extra_forbidden" and loc and not _FIELD_NAME.fullmatch(str(loc[-1])):
        loc[-1] = "<a field not in the contract>"  # "email" is named; "jane.doe@example.com" is not
    return f"{'.'.join(map(str, loc)) or '<root>'}: {message}"


# The headers every dead letter carries besides the original record's own (AsyncAPI documents
# them from here), then those it carries when they apply.
DEAD_LETTER_HEADERS = {
    "dlq-error-type": "The Python exception's class name, e.g. ValidationError",
    "dlq-error-message": "Why, without the values sent: for a ValidationError, `field.path: message` per error",
    "dlq-original-topic": "The topic the record was read from",
    "dlq-original-partition": "Its partition (decimal)",
    "dlq-original-offset": "Its offset there (decimal): replay from the source by it",
    "dlq-service": "The service that could not handle it",
}
SOMETIMES_HEADERS = {
    "dlq-event-id": "The CloudEvents id, when the value was JSON with one",
    "dlq-event-type": "The CloudEvents type, when the value was JSON with one",
    "dlq-value-omitted": "Why the letter has no value and no key (`<n> bytes: from a topic about people`, or too "
                         "large): replay reads the original at dlq-original-offset",
}


def dead_letter_headers(record: ConsumerRecord, error: Exception, service: str) -> dict[str, str]:
    # Kafka allows a header without a value (null): kept as an empty one, so that such a
    # record can still be dead-lettered instead of failing its consumer again and again.
    headers = {k: v.decode(errors="replace") if v is not None else "" for k, v in record.headers or ()}
    headers.update({
        "dlq-error-type": type(error).__name__,
        "dlq-error-message": describe(error),
        "dlq-original-topic": record.topic,
        "dlq-original-partition": str(record.partition),
        "dlq-original-offset": str(record.offset),
        "dlq-service": service,
    })
    return headers


def event_headers(value: bytes | None) -> dict[str, str]:
    """The event id and type of a JSON CloudEvent, when the value is one: what an operator
    needs to tell letters apart without the value."""
    try:
        event = json.loads(value or b"")
    except ValueError:
        return {}
    if not isinstance(event, dict):
        return {}
    found = {"dlq-event-id": event.get("id"), "dlq-event-type": event.get("type")}
    return {k: _carriable(v[:200]) for k, v in found.items() if isinstance(v, str)}


def _carriable(text: str) -> str:
    """`text` as a UTF-8 header can carry it. JSON may escape a lone surrogate ("\\udfff"),
    in an id or, through a field's name, in a validation error's description: written as its
    escape instead, or publishing the letter would fail and the consumer retry it for ever."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class DeadLetters:
    """Middleware factory: `KafkaBroker(middlewares=[DeadLetters(service, topic, keeps_value_from)])`.
    `keeps_value_from`: the topics whose letters keep their value (declared not personal)."""

    def __init__(self, service: str, topic: str, keeps_value_from: Collection[str] = ()) -> None:
        self.service = service
        self.topic = topic
        self.keeps_value_from = frozenset(keeps_value_from)
        self.broker: KafkaBroker | None = None

    def __call__(self, msg: Any, /, *, context: Any) -> BaseMiddleware:
        return _DeadLetterMiddleware(msg, context=context, sink=self)

    async def send(self, record: ConsumerRecord, error: Exception) -> None:
        assert self.broker is not None, "DeadLetters.broker is set when the broker is built"
        headers = {k: _carriable(v) for k, v in
                   (dead_letter_headers(record, error, self.service) | event_headers(record.value)).items()}
        if record.topic not in self.keeps_value_from:
            # Nor the key: on such topics it is mostly the person's id. Both stay at the source.
            headers["dlq-value-omitted"] = f"{len(record.value or b'')} bytes: from a topic about people"
            await self.broker.publish(None, topic=self.topic, key=None, headers=headers)
        else:
            await self._publish_with_value(record, headers)
        metrics.DEAD_LETTERED.labels(self.service, record.topic, type(error).__name__).inc()
        log.warning(
            "dead-lettered %s/%d@%d: %s: %s", record.topic, record.partition, record.offset,
            type(error).__name__, describe(error),
        )

    async def _publish_with_value(self, record: ConsumerRecord, headers: dict[str, str]) -> None:
        assert self.broker is not None
        try:
            await self.broker.publish(record.value, topic=self.topic, key=record.key, headers=headers)
        except MessageSizeTooLargeError:
            # The original fitted the broker's limit, but not with these headers added. Failing
            # here would hand it back to Kafka, again and again: the partition would be stuck
            # for ever. So the letter goes without its value, which stays readable at its
            # original offset for as long as that topic keeps it.
            headers["dlq-value-omitted"] = f"{len(record.value or b'')} bytes: too large with the headers"
            await self.broker.publish(None, topic=self.topic, key=record.key, headers=headers)


class _DeadLetterMiddleware(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: Any, sink: DeadLetters) -> None:
        super().__init__(msg, context=context)
        self.sink = sink

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool:
        if not isinstance(exc_val, Exception) or isinstance(exc_val, HandlerException) or is_transient(exc_val):
            return False  # success, cancellation, FastStream's ack/nack signals, or retry via nack
        records = self.msg if isinstance(self.msg, tuple) else (self.msg,)
        for record in records:
            await self.sink.send(record, exc_val)
        return True  # suppressed: the acknowledgement middleware commits the offset
