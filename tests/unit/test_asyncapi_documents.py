"""The AsyncAPI documents describe what is on the wire, and the AsyncAPI Initiative's own
parser (@asyncapi/parser, from npm: tests/unit/asyncapi/) accepts them."""

import json
import subprocess
from pathlib import Path

import pytest

from schemas.catalog import SERVICES
from schemas.export import ROOT
from services.runtime.dead_letters import DEAD_LETTER_HEADERS, SOMETIMES_HEADERS

HERE = Path(__file__).parent / "asyncapi"
DOCUMENTS = {service: ROOT / "asyncapi" / f"{service}.json" for service in SERVICES}


def parse(*files: Path) -> list[dict]:
    """The parser's verdict on each file: {"file", "parsed", "errors": [{code, message, path}]}."""
    done = subprocess.run(["node", HERE / "parse.mjs", *map(str, files)], capture_output=True, text=True,
                          check=True, timeout=120)
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_every_document_parses_without_an_error():
    verdicts = parse(*DOCUMENTS.values())
    assert [(v["file"], v["errors"]) for v in verdicts if not v["parsed"] or v["errors"]] == []
    assert len(verdicts) == len(DOCUMENTS)


def test_the_parser_would_catch_a_reference_to_nothing(tmp_path):
    document = json.loads(DOCUMENTS["consent"].read_text())
    document["operations"]["consent:deadletter"]["channel"]["$ref"] = "#/channels/nowhere"
    (broken := tmp_path / "broken.json").write_text(json.dumps(document))
    [verdict] = parse(broken)
    assert not verdict["parsed"]
    assert "invalid-ref" in {e["code"] for e in verdict["errors"]}


@pytest.mark.parametrize("service", SERVICES)
def test_messages_name_the_correlation_id_in_the_body_and_the_subject_as_key(service):
    messages = json.loads(DOCUMENTS[service].read_text())["components"]["messages"]
    events = {name: m for name, m in messages.items() if not name.endswith(":DeadLetter")}
    assert events
    for message in events.values():
        assert message["correlationId"]["location"] == "$message.payload#/correlationid"
        assert "subject" in message["bindings"]["kafka"]["key"]["description"]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_documents_its_dead_letter_topic_and_headers(service):
    document = json.loads(DOCUMENTS[service].read_text())
    channel = document["channels"][f"{service}:deadletter"]
    assert channel["address"] == f"advocacy.{service}.deadletter.v1"
    headers = document["components"]["messages"][f"{service}:deadletter:DeadLetter"]["headers"]
    assert set(headers["required"]) == set(DEAD_LETTER_HEADERS)
    assert set(headers["properties"]) == set(DEAD_LETTER_HEADERS) | set(SOMETIMES_HEADERS)
    assert document["operations"][f"{service}:deadletter"]["action"] == "send"
