"""Commands over HTTP: one transaction with the outbox, as from Kafka; an accepted one answers
its resulting state, a refused one a problem with the rejection's reason and leaves nothing
behind; lists come newest first, a page at a time."""

from datetime import UTC, datetime, timedelta

from services.runtime.api.paging import MAX_LIMIT


async def test_an_accepted_command_answers_its_state_and_its_event_leaves_through_the_outbox(front_door):
    person = "adv-commands-1"
    response = await front_door.client.post(f"/api/people/{person}/notes", json={"text": "hello"},
                                            headers=front_door.signed_in(person))
    assert response.status_code == 201
    note = response.json()
    [row] = await front_door.rows("SELECT note_id, text FROM notes WHERE advocate_id = $1", person)
    assert dict(row) == {"note_id": note["note_id"], "text": "hello"}
    [event] = await front_door.events_about(person, at_least=1)
    assert event["data"] == note and event["source"] == front_door.settings.source


async def test_a_refused_command_is_a_problem_with_its_reason_and_leaves_no_row_and_no_event(front_door):
    person, other = "adv-commands-2", "adv-commands-3"
    for path, body, status, reason in [
        (f"/api/people/{other}/notes", {"text": "about somebody else"}, 403, "actor_not_subject"),
        (f"/api/people/{person}/notes", {"text": "   "}, 422, "note_empty"),
    ]:
        response = await front_door.client.post(path, json=body, headers=front_door.signed_in(person))
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["reason"] == reason and problem["type"] == f"urn:advocacy:problem:{reason}"
        assert problem["detail"]  # the rule's words for people
    assert await front_door.notes_of(person) == 0 and await front_door.notes_of(other) == 0
    # A command accepted afterwards: its event leaves after anything written before it (the relay
    # publishes in outbox order), so by the time it is out, a refused one's would be too.
    marker = await front_door.client.post(f"/api/people/{person}/notes", json={"text": "accepted"},
                                          headers=front_door.signed_in(person))
    assert marker.status_code == 201
    events = await front_door.events_about(person, at_least=1) + await front_door.events_about(other)
    assert [e["data"]["text"] for e in events] == ["accepted"]
    assert 'reason="actor_not_subject"' in (await front_door.management.get("/metrics")).text


async def test_a_list_comes_newest_first_a_page_at_a_time_and_ties_do_not_repeat_or_vanish(front_door):
    person = "adv-paging-1"
    start = datetime.now(UTC) - timedelta(days=1)
    # 23 notes, some sharing a timestamp: the note id breaks the tie.
    written = [(f"note-{n:02d}", person, f"note {n}", start + timedelta(minutes=n // 3)) for n in range(23)]
    await front_door.rows("INSERT INTO notes (note_id, advocate_id, text, at) SELECT * FROM unnest("
                          "$1::text[], $2::text[], $3::text[], $4::timestamptz[])", *map(list, zip(*written, strict=True)))
    await front_door.rows("INSERT INTO notes VALUES ('someone-else', 'adv-paging-2', 'not mine', now())")
    headers = front_door.signed_in(person)
    seen, cursor, pages = [], None, 0
    while True:
        response = await front_door.client.get("/api/notes", params={"limit": 5, **({"cursor": cursor} if cursor else {})},
                                               headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [item["note_id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # Something written meanwhile, newer than everything: it belongs to the first page, not to these.
        if pages == 2:
            await front_door.client.post(f"/api/people/{person}/notes", json={"text": "new"}, headers=headers)
    newest_first = [note_id for note_id, *_ in sorted(written, key=lambda w: (w[3], w[0]), reverse=True)]
    assert seen == newest_first and pages == 5


async def test_a_page_is_at_most_the_maximum_and_says_when_it_is_the_last(front_door):
    response = await front_door.client.get("/api/notes", params={"limit": MAX_LIMIT},
                                           headers=front_door.signed_in("adv-paging-3"))
    assert response.json() == {"items": [], "next_cursor": None}


async def test_a_retried_command_with_its_idempotency_key_is_applied_once_and_says_so(front_door):
    """A client that lost the answer (a dropped connection, a restarted service) sends the
    request again with the same key: the effect stays single, and the answer says it was
    applied. A refused request may be retried with its key; another person's key is theirs."""
    person, other = "adv-commands-7", "adv-commands-8"
    once = {**front_door.signed_in(person), "Idempotency-Key": "4f7d8a5e-retry"}
    first = await front_door.client.post(f"/api/people/{person}/notes", json={"text": "once"}, headers=once)
    again = await front_door.client.post(f"/api/people/{person}/notes", json={"text": "once"}, headers=once)
    assert (first.status_code, again.status_code) == (201, 409)
    assert again.json()["reason"] == "already_applied"
    assert await front_door.notes_of(person) == 1

    refused = {**front_door.signed_in(person), "Idempotency-Key": "4f7d8a5e-refused"}
    blank = await front_door.client.post(f"/api/people/{person}/notes", json={"text": "  "}, headers=refused)
    fixed = await front_door.client.post(f"/api/people/{person}/notes", json={"text": "fixed"}, headers=refused)
    assert (blank.status_code, fixed.status_code) == (422, 201)

    theirs = {**front_door.signed_in(other), "Idempotency-Key": "4f7d8a5e-retry"}  # the same value, someone else
    assert (await front_door.client.post(f"/api/people/{other}/notes", json={"text": "mine"},
                                         headers=theirs)).status_code == 201
    bad = {**front_door.signed_in(person), "Idempotency-Key": "no spaces allowed"}
    answer = await front_door.client.post(f"/api/people/{person}/notes", json={"text": "x"}, headers=bad)
    assert (answer.status_code, answer.json()["reason"]) == (400, "invalid_idempotency_key")
    assert await front_door.notes_of(person) == 2


async def test_a_claimed_key_keeps_no_id_of_who_sent_it(front_door):
    """The claim stays in the inbox for its retention, which an erasure does not reach
    (ADR 0013): its sender is in a digest with the key, not by id."""
    person = "adv-commands-11"
    headers = {**front_door.signed_in(person), "Idempotency-Key": "6a1f0c2e-no-id"}
    assert (await front_door.client.post(f"/api/people/{person}/notes", json={"text": "hi"},
                                         headers=headers)).status_code == 201
    claims = [r["event_id"] for r in await front_door.rows("SELECT event_id FROM inbox")]
    assert claims and not [claim for claim in claims if person in claim]
    again = await front_door.client.post(f"/api/people/{person}/notes", json={"text": "hi"}, headers=headers)
    assert again.status_code == 409  # still claimed


async def test_a_key_spent_on_one_request_refuses_another_and_applies_nothing(front_door):
    """IETF httpapi-idempotency-key-header: a key sent again with another request (here
    another body) is answered 422, not 409: the client must not read "applied before"
    for a request that never was."""
    person = "adv-commands-9"
    key = {**front_door.signed_in(person), "Idempotency-Key": "5e0c1b7a-spent"}
    first = await front_door.client.post(f"/api/people/{person}/notes", json={"text": "first"}, headers=key)
    other = await front_door.client.post(f"/api/people/{person}/notes", json={"text": "second"}, headers=key)
    again = await front_door.client.post(f"/api/people/{person}/notes", json={"text": "first"}, headers=key)
    assert (first.status_code, other.status_code, again.status_code) == (201, 422, 409)
    assert (other.json()["reason"], again.json()["reason"]) == ("idempotency_key_reused", "already_applied")
    assert await front_door.notes_of(person) == 1


async def test_two_idempotency_keys_on_one_request_are_refused_and_apply_nothing(front_door):
    """Which one a proxy keeps, or whether it joins them, is not ours to guess (a new user)."""
    person = "adv-commands-12"
    headers = [*front_door.signed_in(person).items(), ("Idempotency-Key", "dup-a-1"), ("Idempotency-Key", "dup-b-1")]
    answer = await front_door.client.post(f"/api/people/{person}/notes", json={"text": "twice keyed"}, headers=headers)
    assert (answer.status_code, answer.json()["reason"]) == (400, "invalid_idempotency_key")
    assert await front_door.notes_of(person) == 0
