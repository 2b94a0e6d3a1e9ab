"""The redirect with what real browsers, networks and proxies send: a trailing slash, a
NUL in the path, link-preview fetchers, HEAD and prefetch requests, an IDN target, an item
URL with a query of its own, and a visitor behind proxies."""

from harness.kafka import eventually
from schemas.consent import Purpose
from tests.integration.distribution.test_distribution_redirect_security import CLICKED, a_share

ANNA = "adv-anna-redirect"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = "Mozilla/5.0 (Linux; Android 10; BOT-AL00) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
UTM = "utm_source=linkedin&utm_medium=employee_advocacy&utm_campaign=none&utm_content="


async def anna_in_the_audience(distribution) -> None:
    await distribution.join(ANNA, languages=["de"])
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT)

    async def projected() -> bool:
        return await distribution.count("people") == 1 and await distribution.count("consents") == 1

    await eventually(projected, what="Anna and her consent projected")


async def test_a_trailing_slash_resolves_and_control_bytes_are_404_never_500(distribution):
    await anna_in_the_audience(distribution)
    code = await a_share(distribution, "item-inputs-0001")
    status, headers = await distribution.visit(f"/r/{code}")
    assert status == 302
    slashed, answer = await distribution.visit(f"/r/{code}/")
    assert (slashed, answer["location"]) == (302, headers["location"])
    for path in (f"{code}%00", "%00", f"{code[:8]}%00{code[9:]}", f"{code}%01", f"{code}%7F", f"{code}//"):
        status, answer = await distribution.visit(f"/r/{path}")
        assert (status, answer.get("location")) == (404, None), path


async def test_what_does_not_redirect_is_a_problem_document_and_a_405_names_the_methods(distribution):
    await anna_in_the_audience(distribution)
    code = await a_share(distribution, "item-inputs-0005")
    unknown = await distribution.call("GET", f"/r/{'Q' * 16}")
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["reason"] == "unknown_link" and "location" not in unknown.headers
    assert "copied whole" in unknown.json()["detail"]  # says what the person can do about it
    assert (await distribution.call("GET", "/r/%00")).json()["reason"] == "unknown_link"
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        refused = await distribution.call(method, f"/r/{code}")
        assert (refused.status_code, refused.headers.get("allow")) == (405, "GET, HEAD"), method
        assert refused.json()["reason"] == "method_not_allowed"
        assert refused.json()["detail"] == "A tracked link answers GET and HEAD only."
    head = await distribution.call("HEAD", f"/r/{'Q' * 16}")
    assert (head.status_code, head.content) == (404, b"")  # a HEAD answer has no body


async def test_preview_fetchers_head_and_prefetch_are_redirected_but_not_counted_as_people(distribution):
    await anna_in_the_audience(distribution)
    code = await a_share(distribution, "item-inputs-0002")
    requests = [  # (user agent, extra headers, method) → a person's click?
        (FIREFOX, {}, "GET", True),
        (PHONE, {}, "GET", True),
        ("Mastodon/4.2.1 (http.rb/5.1.1; +https://social.example/)", {}, "GET", False),
        ("Go-http-client/1.1", {}, "GET", False),
        ("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", {}, "GET", False),
        ("Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)", {}, "GET", False),
        (FIREFOX, {}, "HEAD", False),
        (FIREFOX, {"Sec-Purpose": "prefetch"}, "GET", False),
        (FIREFOX, {"Purpose": "prefetch"}, "GET", False),
    ]
    for agent, headers, method, _ in requests:
        status, _answer = await distribution.visit(f"/r/{code}", user_agent=agent, headers=headers, method=method)
        assert status == 302, (agent, method)
    clicks = await distribution.events(CLICKED, at_least=len(requests))
    assert [not c["data"]["bot"] for c in clicks] == [human for *_, human in requests]


async def test_the_target_keeps_the_items_query_as_it_was_and_goes_out_in_ascii(distribution):
    await anna_in_the_audience(distribution)
    query_item, idn_item = "item-inputs-0003", "item-inputs-0004"
    own_query = await a_share(distribution, query_item, source_url="https://example.com/?color=red&color=blue&sale#top")
    idn = await a_share(distribution, idn_item, source_url="https://bücher.example/straße/café?seite=1")
    assert (await distribution.visit(f"/r/{own_query}"))[1]["location"] == \
        f"https://example.com/?color=red&color=blue&sale&{UTM}{query_item}#top"
    assert (await distribution.visit(f"/r/{idn}"))[1]["location"] == \
        f"https://xn--bcher-kva.example/stra%C3%9Fe/caf%C3%A9?seite=1&{UTM}{idn_item}"


async def test_the_visitor_behind_proxies_is_the_rightmost_address_no_trusted_proxy_vouches_beyond(distribution):
    await anna_in_the_audience(distribution)
    code = await a_share(distribution, "item-inputs-0005")
    forwarded = ["203.0.113.7", "198.51.100.66, 203.0.113.7", "198.51.100.66"]  # the test client is a trusted proxy
    for chain in forwarded:
        await distribution.visit(f"/r/{code}", user_agent=FIREFOX, headers={"X-Forwarded-For": chain})
    visitors = [c["data"]["visitor"] for c in await distribution.events(CLICKED, at_least=len(forwarded))]
    assert visitors[0] == visitors[1] != visitors[2]  # what the visitor wrote on the left changes nothing
