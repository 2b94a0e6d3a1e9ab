"""/api/me/shares: share now or schedule, list, read, cancel — signed in, over real HTTP,
Kafka and Postgres; the same commands on Kafka are refused; nobody reaches, or learns of,
another person's shares."""

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import asyncpg

from harness.kafka import eventually
from schemas import engagement
from schemas.consent import Purpose
from schemas.distribution import CancelShare, RequestShare, ShareCancellation, ShareRequest
from tests.integration.distribution.conftest import REJECTED, SHARE_CANCELLED, SHARE_CREATED

ANNA, BERT = "adv-anna-shares", "adv-bert-shares"
ITEM = "item-shares-plant1"
PUBLISH_REQUESTED = "advocacy.distribution.share.publish.requested.v1"
LAST_WEEK = "2026-11-20T10:00:00+00:00"


async def anna_and_bert_with_an_item(distribution) -> None:
    """Both receive the item; Anna also allows scheduled sharing."""
    for advocate in (ANNA, BERT):
        await distribution.join(advocate)
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT, Purpose.SCHEDULED_SHARING)
    await distribution.consent(BERT, Purpose.RECEIVE_CONTENT)

    async def projected() -> bool:
        return await distribution.count("people") == 2 and await distribution.count("consents") == 3

    await eventually(projected, what="people and consents projected")
    await distribution.publish(ITEM, disclosure="#employee", share_texts={"x": "Our plant runs on sun"})
    await distribution.events("advocacy.distribution.item.distributed.v2")


def later(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


async def status_of(distribution, advocate: str, share_id: str) -> str:
    response = await distribution.as_person(advocate, "GET", f"/api/me/shares/{share_id}")
    assert response.status_code == 200, response.text
    return response.json()["status"]


async def test_sharing_now_answers_the_share_and_its_event_leaves_through_the_outbox(distribution):
    await anna_and_bert_with_an_item(distribution)
    response = await distribution.share(ANNA, ITEM, "x")
    assert response.status_code == 201
    share = response.json()
    assert response.headers["location"] == f"/api/me/shares/{share['share_id']}"
    assert share["status"] == "created" and share["scheduled_at"] is None
    assert share["post"] == f"Our plant runs on sun\n#employee\n{share['tracked_url']}"
    assert share["share_intent_url"] == f"https://x.com/intent/post?text={quote(share['post'], safe='')}"
    assert share["intent_carries_text"] is True
    [row] = await distribution.fetch("SELECT advocate_id, status, post FROM shares")
    assert dict(row) == {"advocate_id": ANNA, "status": "created", "post": share["post"]}

    [created] = await distribution.events(SHARE_CREATED)
    assert created["subject"] == share["share_id"] and created["source"] == distribution.settings.source
    assert created["data"]["advocate_id"] == ANNA and created["data"]["tracked_url"] == share["tracked_url"]
    assert (await distribution.as_person(ANNA, "GET", f"/api/me/shares/{share['share_id']}")).json() == share


async def arriving_together(distribution, asked: list[tuple[str, str]]) -> list:
    """The answers to share requests (advocate, item) sent at once while the first to reach the
    database waits for a lock on both people's consents, so that the others queue meanwhile
    (those that reach one of the API's other transactions wait for the lock there)."""
    holder = await asyncpg.connect(distribution.settings.database_url)
    try:
        async with holder.transaction():
            await holder.execute("SELECT FROM consents WHERE advocate_id IN ($1, $2) FOR UPDATE", ANNA, BERT)
            sent = asyncio.gather(*(distribution.share(advocate, item, "x") for advocate, item in asked))
            await distribution.until("SELECT count(*) > 0 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                                     True, holder.get_server_pid())
            await asyncio.sleep(0.5)
        return list(await sent)
    finally:
        await holder.close()


async def test_share_requests_arriving_together_are_committed_together(distribution):
    """Group commit (ADR 0046): requests that arrive while the API's transactions are under way
    share the next one; their rows carry its transaction id."""
    await anna_and_bert_with_an_item(distribution)
    answers = await arriving_together(distribution, [(ANNA, ITEM)] * 6 + [(BERT, ITEM)] * 5)
    assert [answer.status_code for answer in answers] == [201] * 11
    rows = await distribution.fetch("SELECT share_id, xmin::text AS tx FROM shares")
    assert {row["share_id"] for row in rows} == {answer.json()["share_id"] for answer in answers}
    # At most one for each of the four transactions the API runs at once, and one for the rest.
    assert len({row["tx"] for row in rows}) <= 5
    created = await distribution.events(SHARE_CREATED, at_least=11)
    assert sorted(event["subject"] for event in created) == sorted(row["share_id"] for row in rows)


async def test_a_share_refused_among_others_arriving_together_fails_alone(distribution):
    await anna_and_bert_with_an_item(distribution)
    asked = [(ANNA, ITEM)] * 3 + [(BERT, "item-not-in-any-feed")] + [(BERT, ITEM)] * 3
    answers = await arriving_together(distribution, asked)
    refused = answers.pop(3)
    assert refused.json()["reason"] == "item_not_in_feed", refused.text
    assert [answer.status_code for answer in answers] == [201] * 6
    made = {answer.json()["share_id"] for answer in answers}
    assert {row["share_id"] for row in await distribution.fetch("SELECT share_id FROM shares")} == made
    created = await distribution.events(SHARE_CREATED, at_least=6)
    assert {event["subject"] for event in created} == made
    assert await distribution.events_now(REJECTED) == []  # an HTTP refusal is the answer, not an event


async def test_linkedin_takes_only_the_link_so_the_share_says_its_intent_carries_no_text(distribution):
    await anna_and_bert_with_an_item(distribution)
    share = await distribution.shared(ANNA, ITEM, "linkedin")
    assert share["share_intent_url"] == ("https://www.linkedin.com/sharing/share-offsite/?url="
                                         + quote(share["tracked_url"], safe=""))
    assert share["intent_carries_text"] is False
    assert share["post"].startswith("Our new plant\n#employee\n")  # what the app has the person copy


async def test_a_scheduled_share_goes_from_scheduled_to_publish_requested_to_published(distribution):
    await anna_and_bert_with_an_item(distribution)
    share = await distribution.shared(ANNA, ITEM, scheduled_at=later(seconds=1))
    assert share["status"] == "scheduled" and share["scheduled_at"] is not None
    await distribution.events(PUBLISH_REQUESTED)
    assert await status_of(distribution, ANNA, share["share_id"]) == "publish_requested"

    await distribution.send_to(distribution.topics.engagement, engagement.SharePublished(
        source="/connector", subject=share["share_id"], data=engagement.PostOutcome(
            share_id=share["share_id"], network="linkedin", at=datetime.now(UTC))))

    async def published() -> bool:
        return await status_of(distribution, ANNA, share["share_id"]) == "published"

    await eventually(published, what="the connector's report")


async def test_a_share_is_answered_as_it_reads_back_its_times_in_utc(distribution):
    await anna_and_bert_with_an_item(distribution)
    in_berlin = later(hours=1).astimezone(timezone(timedelta(hours=1)))
    share = await distribution.shared(ANNA, ITEM, scheduled_at=in_berlin)
    assert datetime.fromisoformat(share["scheduled_at"]) == in_berlin
    assert share["scheduled_at"].endswith("Z") and share["created_at"].endswith("Z")
    assert (await distribution.as_person(ANNA, "GET", f"/api/me/shares/{share['share_id']}")).json() == share


async def test_my_shares_come_newest_first_a_page_at_a_time_and_only_mine(distribution):
    await anna_and_bert_with_an_item(distribution)
    mine = [(await distribution.shared(ANNA, ITEM, network))["share_id"]
            for network in ("linkedin", "x", "xing", "facebook", "bluesky")]
    await distribution.shared(BERT, ITEM)

    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await distribution.as_person(ANNA, "GET", f"/api/me/shares{query}")).json()
        seen += [s["share_id"] for s in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == mine[::-1]


async def test_cancelling_a_scheduled_share_stops_it_and_says_why_on_kafka(distribution):
    await anna_and_bert_with_an_item(distribution)
    share = await distribution.shared(ANNA, ITEM, scheduled_at=later(seconds=2))
    response = await distribution.as_person(ANNA, "POST", f"/api/me/shares/{share['share_id']}/cancel")
    assert response.status_code == 200
    assert response.json() == {**share, "status": "cancelled"}

    [cancelled] = await distribution.events(SHARE_CANCELLED)
    assert cancelled["subject"] == share["share_id"] and cancelled["data"]["reason"] == "cancelled_by_advocate"
    again = await distribution.as_person(ANNA, "POST", f"/api/me/shares/{share['share_id']}/cancel")
    assert (again.status_code, again.json()["reason"]) == (409, "share_not_scheduled")
    await eventually(lambda: _later_than(share["scheduled_at"]), what="its time to pass")
    await distribution.shared(ANNA, ITEM, scheduled_at=later(seconds=0.5))  # a marker the scheduler requests
    [requested] = await distribution.events(PUBLISH_REQUESTED)
    assert requested["subject"] != share["share_id"]  # the cancelled one never was
    assert await status_of(distribution, ANNA, share["share_id"]) == "cancelled"


async def test_only_a_scheduled_share_can_be_cancelled(distribution):
    await anna_and_bert_with_an_item(distribution)
    now = await distribution.shared(ANNA, ITEM)
    due = await distribution.shared(ANNA, ITEM, scheduled_at=later(seconds=0.5))
    await distribution.events(PUBLISH_REQUESTED)
    for share in (now, due):
        response = await distribution.as_person(ANNA, "POST", f"/api/me/shares/{share['share_id']}/cancel")
        assert (response.status_code, response.json()["reason"]) == (409, "share_not_scheduled")
    assert [r["status"] for r in await distribution.fetch("SELECT status FROM shares ORDER BY created_at")] == [
        "created", "publish_requested"]
    assert await distribution.events_now(SHARE_CANCELLED) == []


async def test_another_persons_share_is_answered_exactly_as_one_that_does_not_exist(distribution):
    await anna_and_bert_with_an_item(distribution)
    annas = (await distribution.shared(ANNA, ITEM, scheduled_at=later(hours=1)))["share_id"]
    unknown = "0123456789abcdef0123456789abcdef"
    for method, path in (("GET", "/api/me/shares/{}"), ("POST", "/api/me/shares/{}/cancel")):
        hers = await distribution.as_person(BERT, method, path.format(annas))
        nobodys = await distribution.as_person(BERT, method, path.format(unknown))
        assert hers.status_code == nobodys.status_code == 404
        assert hers.json() == nobodys.json() and hers.json()["reason"] == "unknown_share"
        assert hers.headers["content-type"] == nobodys.headers["content-type"] == "application/problem+json"
    assert (await distribution.as_person(BERT, "GET", "/api/me/shares")).json() == {"items": [], "next_cursor": None}
    assert await status_of(distribution, ANNA, annas) == "scheduled"
    assert await distribution.events_now(SHARE_CANCELLED) == []


async def test_share_requests_and_cancellations_on_kafka_are_refused_sign_in_required(distribution):
    await anna_and_bert_with_an_item(distribution)
    scheduled = (await distribution.shared(ANNA, ITEM, scheduled_at=later(hours=1)))["share_id"]
    request = RequestShare(source="/app", subject=ANNA, data=ShareRequest(
        actor=ANNA, advocate_id=ANNA, item_id=ITEM, network="linkedin"))
    cancellation = CancelShare(source="/app", subject=ANNA, data=ShareCancellation(
        actor=ANNA, advocate_id=ANNA, share_id=scheduled))
    await distribution.send(request, cancellation)

    rejected = await distribution.events(REJECTED, at_least=2)
    assert {(r["data"]["command_id"], r["data"]["reason"]) for r in rejected} == {
        (request.id, "sign_in_required"), (cancellation.id, "sign_in_required")}
    assert await distribution.count("shares") == 1 and await status_of(distribution, ANNA, scheduled) == "scheduled"


async def test_bad_input_gets_a_problem_and_writes_nothing(distribution):
    await anna_and_bert_with_an_item(distribution)
    token = {"Authorization": f"Bearer {distribution.token(ANNA)}"}
    valid = {"item_id": ITEM, "network": "linkedin"}
    for body, status, reason in [
        ({**valid, "advocate_id": BERT}, 422, "invalid_request"),  # nobody names whose share it is
        ({**valid, "actor": BERT}, 422, "invalid_request"),
        ({**valid, "email": "jane.doe@example.com"}, 422, "invalid_request"),
        ({**valid, "network": "myspace"}, 422, "invalid_request"),
        ({**valid, "item_id": "../../etc"}, 422, "invalid_request"),
        ({**valid, "scheduled_at": "2099-01-01T10:00:00"}, 422, "invalid_request"),  # no offset: which 10:00?
        ({**valid, "scheduled_at": "2100-01-01T00:00:00Z"}, 422, "invalid_request"),  # ADR 0037's range
        ({**valid, "scheduled_at": "2099-12-31T20:00:00-05:00"}, 422, "invalid_request"),  # 2100 in UTC
        ({**valid, "scheduled_at": 1893456000}, 422, "invalid_request"),  # RFC 3339, not seconds since 1970
        ({**valid, "scheduled_at": "1893456000"}, 422, "invalid_request"),
        ({"network": "linkedin"}, 422, "invalid_request"),
        ([valid], 422, "invalid_request"),
        ({**valid, "text": "nul \u0000 in it"}, 422, "text_invalid_characters"),  # no text column stores NUL
    ]:
        response = await distribution.call("POST", "/api/me/shares", body, headers=token)
        assert (response.status_code, response.json()["reason"]) == (status, reason), body
        assert "jane.doe" not in response.text and BERT not in response.text
    for content, content_type, status, reason in [
        (b'{"item_id": ', "application/json", 400, "invalid_json"),
        (b"item_id=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"text": "' + b"x" * 70_000 + b'"}', "application/json", 413, "body_too_large"),
        # A lone surrogate, escaped as JSON's syntax allows: no character at all, not I-JSON (RFC 7493
        # §2.1); refused with every other body that is not JSON text before the route sees it.
        (json.dumps({**valid, "text": "half a pair \ud83d"}).encode(), "application/json", 400, "invalid_json"),
    ]:
        response = await distribution.send_bytes("POST", "/api/me/shares", content,
                                                 {**token, "Content-Type": content_type})
        assert (response.status_code, response.json()["reason"]) == (status, reason), content[:20]
    for method, path, status, reason in [
        ("GET", "/api/me/shares?cursor=%%%", 400, "invalid_cursor"),
        ("GET", "/api/me/shares?cursor=" + cursor_of(LAST_WEEK, "a\u0000b"), 400, "invalid_cursor"),
        ("GET", "/api/me/feed?cursor=" + cursor_of(LAST_WEEK, "\ud83d"), 400, "invalid_cursor"),
        ("GET", "/api/me/feed?cursor=" + cursor_of("0001-01-01T00:00:00+14:00", ITEM), 400, "invalid_cursor"),
        ("GET", "/api/me/shares?cursor=" + cursor_of("9999-12-31T23:59:59-14:00", ITEM), 400, "invalid_cursor"),
        ("GET", "/api/me/shares?limit=100000", 422, "invalid_request"),
        ("GET", "/api/me/shares/no", 422, "invalid_request"),
        ("POST", "/api/me/shares/a%20share%20id/cancel", 422, "invalid_request"),
        ("DELETE", "/api/me/shares", 405, "method_not_allowed"),
    ]:
        response = await distribution.call(method, path, headers=token)
        assert (response.status_code, response.json()["reason"]) == (status, reason), path
    assert await distribution.count("shares") == 0
    assert await distribution.count("outbox WHERE type LIKE 'advocacy.distribution.share.%'") == 0
    assert await distribution.events_now(SHARE_CREATED) == []


async def test_a_sign_in_no_advocate_can_have_is_refused_as_a_stranger_not_with_an_error(distribution):
    await anna_and_bert_with_an_item(distribution)
    token = distribution.issuer.token(sub="ed.01")  # a valid actor id, but no advocate's (the directory's ids)
    response = await distribution.call("POST", "/api/me/shares", {"item_id": ITEM, "network": "x"}, token=token)
    assert (response.status_code, response.json()["reason"]) == (404, "item_not_in_feed")
    response = await distribution.call("POST", "/api/me/shares/0123456789abcdef/cancel", token=token)
    assert (response.status_code, response.json()["reason"]) == (404, "unknown_share")
    for path in ("/api/me/feed", "/api/me/shares"):
        assert (await distribution.call("GET", path, token=token)).json() == {"items": [], "next_cursor": None}


async def test_every_endpoint_needs_a_sign_in_and_no_role(distribution):
    await anna_and_bert_with_an_item(distribution)
    share_id = (await distribution.shared(ANNA, ITEM, scheduled_at=later(hours=1)))["share_id"]
    endpoints = [("GET", "/api/me/feed", None), ("GET", "/api/me/shares", None),
                 ("GET", f"/api/me/shares/{share_id}", None), ("POST", f"/api/me/shares/{share_id}/cancel", None),
                 ("POST", "/api/me/shares", {"item_id": ITEM, "network": "x"})]
    for method, path, body in endpoints:
        response = await distribution.call(method, path, body)
        assert (response.status_code, response.json()["reason"]) == (401, "unauthenticated"), path
    assert await distribution.count("shares") == 1
    for method, path, body in endpoints:  # Anna's token carries no realm role at all
        assert (await distribution.as_person(ANNA, method, path, body)).status_code in (200, 201), path


def cursor_of(*position: str) -> str:
    """A cursor as the API encodes one (services/runtime/api/paging.py), holding what a client chose."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


async def _later_than(moment: str) -> bool:
    return datetime.now(UTC) > datetime.fromisoformat(moment)
