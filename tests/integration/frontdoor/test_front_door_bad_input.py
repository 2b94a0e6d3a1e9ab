"""Bad input over HTTP: a problem document with a 4xx for whatever a client sends, never a
500, never the value sent echoed back, and nothing half-written."""

import asyncio
import json
import re

import pytest

from services.runtime.api.app import DEFAULT_MAX_BODY_BYTES
from services.runtime.api.paging import MAX_LIMIT

PERSON = "adv-badinput-1"
SECRET = "jane.doe@example.com"  # a value no answer may quote
PATH = f"/api/people/{PERSON}/notes"
JSON = {"Content-Type": "application/json"}


async def chunks(total: int, size: int = 8192):
    """A body sent chunked, with no Content-Length: only counting while it streams catches it."""
    yield b'{"text": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


CASES = {
    "invalid JSON": (dict(content=b'{"text": "unterminated', headers=JSON), 400, "invalid_json"),
    "JSON that is not an object": (dict(content=b'["a list"]', headers=JSON), 422, "invalid_request"),
    "JSON nested beyond reason": (dict(content=b"[" * 50_000, headers=JSON), 400, "invalid_json"),
    "a number of 5,000 digits": (dict(content=b'{"text": ' + b"9" * 5_000 + b"}", headers=JSON), 400, "invalid_json"),
    "UTF-16": (dict(content=json.dumps({"text": SECRET}).encode("utf-16"), headers=JSON), 400, "invalid_json"),
    "a UTF-8 BOM": (dict(content=b"\xef\xbb\xbf" + json.dumps({"text": SECRET}).encode(), headers=JSON), 400,
                    "invalid_json"),
    "an unpaired surrogate": (dict(content=b'{"text": "\\udc80 ' + SECRET.encode() + b'"}', headers=JSON), 400,
                              "invalid_json"),
    "an unknown field": (dict(json={"text": "hi", "email": SECRET}), 422, "invalid_request"),
    "a wrong type": (dict(json={"text": {"nested": SECRET}}), 422, "invalid_request"),
    "a text too long": (dict(json={"text": SECRET * 50}), 422, "invalid_request"),
    "no body": (dict(headers=JSON), 422, "invalid_request"),
    "an empty object": (dict(json={}), 422, "invalid_request"),
    "a declared body over the limit": (dict(json={"text": "x" * DEFAULT_MAX_BODY_BYTES}), 413, "body_too_large"),
    "a chunked body over the limit": (dict(content=chunks(4 * DEFAULT_MAX_BODY_BYTES), headers=JSON), 413,
                                      "body_too_large"),
    "text/plain": (dict(content=json.dumps({"text": SECRET}), headers={"Content-Type": "text/plain"}), 415,
                   "unsupported_media_type"),
    "a form": (dict(data={"text": SECRET}), 415, "unsupported_media_type"),
    "no content type": (dict(content=json.dumps({"text": SECRET}).encode(), headers={"Content-Type": ""}), 415,
                        "unsupported_media_type"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_input_is_a_4xx_problem_that_quotes_nothing_and_writes_nothing(front_door, logs, case):
    request, status, reason = CASES[case]
    headers = {**front_door.signed_in(PERSON), **request.pop("headers", {})}
    response = await front_door.client.post(PATH, headers=headers, **request)
    request["headers"] = headers  # parametrized dicts are shared: leave them as found
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["reason"] == reason
    assert SECRET not in response.text and SECRET not in logs.text
    assert await front_door.notes_of(PERSON) == 0


async def test_validation_problems_name_the_fields_and_the_kind_of_error(front_door):
    response = await front_door.client.post(PATH, json={"text": 42, "email": SECRET},
                                            headers=front_door.signed_in(PERSON))
    assert response.json()["errors"] == [
        {"location": ["body", "text"], "type": "string_type"},
        {"location": ["body", "email"], "type": "extra_forbidden"},
    ]


@pytest.mark.parametrize(("query", "reason"), [
    (f"limit={MAX_LIMIT + 1}", "invalid_request"), ("limit=0", "invalid_request"), ("limit=ten", "invalid_request"),
    ("cursor=bm90IG91cnM", "invalid_cursor"), ("cursor=" + "x" * 600, "invalid_request"),
])
async def test_a_bad_page_request_is_a_4xx_problem(front_door, query, reason):
    response = await front_door.client.get(f"/api/notes?{query}", headers=front_door.signed_in(PERSON))
    assert 400 <= response.status_code < 500 and response.json()["reason"] == reason


async def test_unknown_paths_and_methods_under_the_api_are_problems(front_door):
    missing = await front_door.client.get("/api/people", headers=front_door.signed_in(PERSON))
    assert missing.status_code == 404 and missing.json()["reason"] == "not_found"
    wrong = await front_door.client.put(PATH, json={"text": "hi"}, headers=front_door.signed_in(PERSON))
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"


async def test_the_service_endpoints_answer_on_the_management_port_and_not_beside_the_api(front_door):
    assert (await front_door.management.get("/health")).json() == {"status": "alive"}
    assert (await front_door.management.get("/ready")).status_code == 200
    assert "advocacy_outbox_backlog" in (await front_door.management.get("/metrics")).text
    for path in ("/health", "/ready", "/metrics", "/", "/R/x", "//api/notes"):
        outside = await front_door.client.get(path)  # outside what the public port mounts: a problem too
        assert (outside.status_code, outside.json()["reason"]) == (404, "not_found"), path
    assert (await front_door.client.get("/api/openapi.json")).json()["info"]["title"].startswith("advocacy ")
    counted = (await front_door.management.get("/metrics")).text  # what the public port answered, by status
    assert re.search(r'^advocacy_http_responses_total\{path="other",service="[^"]+",status="404"\} 6\.0$', counted,
                     re.MULTILINE)
    assert re.search(r'advocacy_http_responses_total\{path="api",service="[^"]+",status="200"\} [1-9]', counted)


async def test_a_bug_is_a_500_that_says_nothing_and_is_logged_once_without_its_message(front_door, logs):
    response = await front_door.client.get("/api/bug", headers=front_door.signed_in(PERSON))
    assert response.status_code == 500 and response.json()["reason"] == "internal_error"
    assert response.json()["detail"] == "" and SECRET not in response.text
    errors = [record for record in logs.records if record.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].getMessage().startswith("unexpected RuntimeError in GET")
    assert SECRET not in logs.text  # nor did the server log it after us


async def exchange(front_door, request: bytes, then: bytes = b"", pause: float = 0.0) -> tuple[bytes, float]:
    """Send `request` on a socket of its own (and `then` a byte every `pause` s, until the server
    closes); what the server answered up to closing the connection, and how long that took (s)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", front_door.settings.http_port)
    loop = asyncio.get_running_loop()
    started = loop.time()
    writer.write(request)

    async def trickle() -> None:
        for byte in then:
            await asyncio.sleep(pause)
            if writer.is_closing() or reader.at_eof():
                return
            writer.write(bytes([byte]))

    sending = asyncio.create_task(trickle())
    answer = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), timeout=10):  # to EOF: the server closed it
            answer += chunk
    except ConnectionResetError:  # the trickle's next byte met the closed socket
        pass
    finally:  # and if the server never answers (it did not, before 408s), nothing is left sending
        sending.cancel()
        writer.close()
    return answer, loop.time() - started


@pytest.mark.parametrize("then", [b"", b'"a slow note"}' * 10])
async def test_a_body_that_does_not_arrive_in_time_is_408_and_the_connection_closed(front_door, then):
    api = front_door.service.api
    api.body_timeout = 0.5
    token = front_door.signed_in(PERSON)["Authorization"]
    head = (f"POST {PATH} HTTP/1.1\r\nHost: probe\r\nContent-Type: application/json\r\n"
            f"Authorization: {token}\r\nContent-Length: 500\r\n\r\n").encode()
    try:
        # Content-Length says 500 bytes; 10 come (and then, maybe, a byte every 0.1 s).
        answer, took = await exchange(front_door, head + b'{"text": "', then, pause=0.1)
    finally:
        api.body_timeout = front_door.settings.http_body_timeout_seconds
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 408 Request Timeout", answer
    assert b"connection: close" in rest.lower() and b'"reason":"request_timeout"' in rest
    assert 0.5 <= took < 3
    assert await front_door.notes_of(PERSON) == 0
    ok = await front_door.client.post("/api/people/adv-badinput-2/notes", json={"text": "on time"},
                                      headers=front_door.signed_in("adv-badinput-2"))
    assert ok.status_code == 201, ok.text
