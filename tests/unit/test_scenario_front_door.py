"""The scenario's HTTP client (ops/scenario/front_door.py), against a service answering from a
script: a command is sent again with the same Idempotency-Key after a lost answer or a busy
service, and a repeat the service had applied counts as done; an expired token is renewed
once; a refusal comes back with the problem's status, reason and detail."""

import httpx
import pytest

from ops.scenario.front_door import ALREADY_APPLIED, FrontDoor, Refused

PROBLEM = {"content-type": "application/problem+json"}


class Tokens:
    """Stands in for the realm's accounts: token n is the n-th sign-in."""

    def __init__(self) -> None:
        self.sign_ins = 0

    async def token(self, advocate_id: str, renew: bool = False) -> str:
        if renew or not self.sign_ins:
            self.sign_ins += 1
        return f"token-{self.sign_ins}"


def door_answering(*answers: object) -> tuple[FrontDoor, list[httpx.Request], Tokens]:
    """A front door to one service that answers each request with the next of `answers` (a
    response, or an exception raised as if the connection failed)."""
    sent: list[httpx.Request] = []
    script = list(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        nxt = script.pop(0)
        if isinstance(nxt, Exception):
            raise nxt
        return nxt

    tokens = Tokens()
    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return FrontDoor(http, tokens, {"consent": "http://consent.test"}), sent, tokens


def problem(status: int, reason: str, detail: str = "") -> httpx.Response:
    return httpx.Response(status, json={"status": status, "reason": reason, "detail": detail}, headers=PROBLEM)


async def test_a_command_whose_answer_was_lost_is_sent_again_with_its_key_and_counts_as_applied_once():
    door, sent, _ = door_answering(httpx.ReadTimeout("answer lost"), problem(409, "already_applied"))
    answer = await door.command("adv-test-0001", "POST", "consent", "/api/me/consents/leaderboard/give",
                                {"policy_version": 1})
    assert answer is ALREADY_APPLIED
    keys = [r.headers["Idempotency-Key"] for r in sent]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert door.retried == 1


async def test_a_busy_service_is_asked_again_with_the_same_key_and_its_answer_returned():
    door, sent, _ = door_answering(problem(503, "unavailable"), httpx.Response(200, json={"status": "given"}))
    assert await door.command("adv-test-0001", "POST", "consent", "/api/me/consents/leaderboard/give") == {
        "status": "given"}
    assert sent[0].headers["Idempotency-Key"] == sent[1].headers["Idempotency-Key"]


async def test_each_command_has_a_key_of_its_own():
    door, sent, _ = door_answering(httpx.Response(200, json={}), httpx.Response(200, json={}))
    for _ in range(2):
        await door.command("adv-test-0001", "POST", "consent", "/api/me/consents/leaderboard/withdraw")
    assert sent[0].headers["Idempotency-Key"] != sent[1].headers["Idempotency-Key"]


async def test_already_applied_on_the_first_try_is_a_refusal_not_a_success():
    door, _, _ = door_answering(problem(409, "already_applied"))
    with pytest.raises(Refused) as refused:
        await door.command("adv-test-0001", "POST", "consent", "/api/me/consents/leaderboard/withdraw")
    assert refused.value.reason == "already_applied"


async def test_an_expired_token_is_renewed_once_by_signing_in_again():
    door, sent, tokens = door_answering(problem(401, "unauthenticated"), httpx.Response(200, json={"consents": []}))
    assert await door.query("adv-test-0001", "consent", "/api/me/consents") == {"consents": []}
    assert [r.headers["Authorization"] for r in sent] == ["Bearer token-1", "Bearer token-2"]
    assert tokens.sign_ins == 2


async def test_a_token_refused_again_after_signing_in_anew_is_a_refusal():
    door, _, tokens = door_answering(problem(401, "unauthenticated"), problem(401, "unauthenticated"))
    with pytest.raises(Refused) as refused:
        await door.query("adv-test-0001", "consent", "/api/me/consents")
    assert (refused.value.status, tokens.sign_ins) == (401, 2)


async def test_a_refusal_carries_the_problems_status_reason_and_detail():
    door, _, _ = door_answering(problem(403, "not_permitted", "This needs the role privacy_officer."))
    with pytest.raises(Refused) as refused:
        await door.command("adv-test-0001", "POST", "consent", "/api/people/adv-test-0002/erasure", {"reason": "x"})
    assert (refused.value.status, refused.value.reason, refused.value.detail) == (
        403, "not_permitted", "This needs the role privacy_officer.")
    assert str(refused.value) == "403 not_permitted (This needs the role privacy_officer.)"
