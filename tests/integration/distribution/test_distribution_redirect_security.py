"""`GET /r/{code}` is not an open redirect: only a stored code resolves, and only to the
target fixed when the share was made. Nothing in the request — path tricks, an appended URL,
query parameters, headers, encoded line breaks — can choose or add to where it points."""

from urllib.parse import quote

from harness.kafka import eventually
from schemas.consent import Purpose

ANNA, ITEM, SHADY = "adv-anna-redirect", "item-redirect-0001", "item-redirect-0002"
EVIL = "https://evil.example/phish"
CLICKED = "advocacy.distribution.link.clicked.v1"


async def a_share(distribution, item: str, **content) -> str:
    """A share of `item` by Anna; returns its code."""
    await distribution.publish(item, **content)
    await distribution.events("advocacy.distribution.item.distributed.v2", at_least=1)
    share = await distribution.shared(ANNA, item)
    return share["tracked_url"].rsplit("/r/", 1)[1]


async def anna_in_the_audience(distribution) -> None:
    await distribution.join(ANNA, languages=["de"])
    await distribution.consent(ANNA, Purpose.RECEIVE_CONTENT)

    async def projected() -> bool:  # directory and consent are separate topics: wait for both
        return await distribution.count("people") == 1 and await distribution.count("consents") == 1

    await eventually(projected, what="Anna and her consent projected")


async def test_unknown_codes_and_crafted_paths_are_refused_and_not_counted(distribution):
    await anna_in_the_audience(distribution)
    code = await a_share(distribution, ITEM)
    status, headers = await distribution.visit(f"/r/{code}")
    assert status == 302 and headers["location"].startswith("https://example.org/news/1?")
    target = headers["location"]
    crafted = [
        "AAAAAAAAAAAAAAAA", "short", "A" * 65, "", "../..", "..%2F..%2Fadmin", "%2F%2Fevil.example",
        "/evil.example", "https:%2F%2Fevil.example", quote(EVIL, safe=""), "%5C%5Cevil.example",
        "javascript:alert(1)", f"{code}/{EVIL}", f"{code}/..", f"{code}%2F..", f"{code}@evil.example",
        f"{code}%0d%0aLocation:%20{quote(EVIL, safe='')}", f"%0d%0aLocation:%20{quote(EVIL, safe='')}",
        code.lower() if code.lower() != code else code.upper(), f"{code}%20", f"%20{code}",
    ]
    for path in crafted:
        status, headers = await distribution.visit(f"/r/{path}")
        assert (status, headers.get("location")) == (404, None), path

    # The stored code with a URL in its query or in the headers still goes where it was made to.
    steering = [f"/r/{code}?url={quote(EVIL)}&next=//evil.example&redirect_uri={quote(EVIL)}", f"/r/{code}#{EVIL}"]
    for path in steering:
        status, answer = await distribution.visit(path)
        assert (status, answer["location"]) == (302, target), path
    status, answer = await distribution.visit(f"/r/{code}", headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example",
                                                          "X-Original-URL": EVIL, "Referer": EVIL})
    assert (status, answer["location"]) == (302, target)
    assert (await distribution.visit(f"/r/{code}", method="POST"))[0] == 405

    valid = 1 + len(steering) + 1  # every 302 above; each refused request must have counted nothing
    clicks = await distribution.events(CLICKED, at_least=valid)
    assert len(clicks) == valid


async def test_only_http_targets_are_ever_served(distribution):
    """Curation refuses non-http(s) URLs; distribution does not rely on it alone."""
    await anna_in_the_audience(distribution)
    code = await a_share(distribution, SHADY, source_url="javascript:alert(document.cookie)")
    status, headers = await distribution.visit(f"/r/{code}")
    assert status == 404 and "location" not in {k.lower() for k in headers}
