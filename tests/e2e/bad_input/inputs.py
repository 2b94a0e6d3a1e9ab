"""One bad (or good) input: the bytes sent to one topic, what kind of badness it stands for,
and — for the hand-written corpus — the outcome each reading service must give it.

Outcomes: `handled` (the service's inbox holds its id and no rejection answered it),
`rejected` (a `…command.rejected.v1` event names it, with a reason), `dead-lettered` (its
original topic, partition and offset appear in the service's dead-letter headers).
"""

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from schemas.envelope import CloudEvent

HANDLED, REJECTED, DEAD_LETTERED = "handled", "rejected", "dead-lettered"


@dataclass
class Input:
    topic: str
    value: bytes | None
    category: str  # what the brief calls it: invalid_json, wrong_types, unicode_edge_cases …
    key: bytes | None = None
    id: str | None = None  # the envelope id it carries, when it carries a usable one
    label: str = ""  # the corpus case's name; empty for generated inputs
    expected: str | None = None  # corpus: the outcome every reader must give (None: generated)
    reason: str | None = None  # corpus: the rejection reason expected
    partition: int | None = None  # sentinels go to each partition explicitly
    expected_by: dict[str, str] = field(default_factory=dict)  # a reader that must answer otherwise
    # Filled in when sent:
    sent_partition: int | None = None
    offset: int | None = None

    def expectation(self, service: str) -> str | None:
        return self.expected_by.get(service, self.expected)


def new_id(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}"


def document(event: CloudEvent[Any]) -> dict[str, Any]:
    """An event as the JSON object a publisher sends, ready to be spoiled."""
    return json.loads(event.to_bytes())


def encode(doc: Any, ascii_only: bool = True) -> bytes:
    """JSON bytes. Lone surrogates survive only as \\uXXXX escapes (ascii_only); written out raw
    they are invalid UTF-8 (surrogatepass), which is a bad input of its own."""
    return json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def from_doc(topic: str, doc: Any, category: str, ascii_only: bool = True, **labels: Any) -> Input:
    """An Input whose key is the document's subject and whose id is its `id`, where those are text."""
    subject = doc.get("subject") if isinstance(doc, dict) else None
    event_id = doc.get("id") if isinstance(doc, dict) else None
    return Input(topic, encode(doc, ascii_only), category,
                 key=subject.encode("utf-8", "surrogatepass") if isinstance(subject, str) else None,
                 id=event_id if isinstance(event_id, str) else None, **labels)


def from_event(topic: str, event: CloudEvent[Any], category: str, **labels: Any) -> Input:
    return from_doc(topic, document(event), category, **labels)
