"""What a click keeps about its visitor (review S4, S9): a hash under the day's key, which
takes CLICK_SECRET and a random salt that every replica reads from the database and that is
deleted once the day is over. So the hash is the same all day for one visitor of one share
(metrics counts unique visitors per share and day), differs on another share, cannot be
computed from the key and the day alone, as it could be until now, and cannot be computed at
all once its day's salt is gone. The redirect's port serves no /health, /ready or /metrics."""

import asyncio
import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx

from services.distribution import links, visitor_salts
from tests.integration.distribution.test_distribution_redirect_security import CLICKED, a_share, anna_in_the_audience

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


async def clicked(distribution, at_least: int) -> list[dict]:
    return [e["data"] for e in await distribution.events(CLICKED, at_least=at_least)]


async def test_one_visitor_is_one_hash_all_day_on_a_share_and_another_on_the_next_share(distribution):
    await anna_in_the_audience(distribution)
    first, second = await a_share(distribution, "item-visitors-01"), await a_share(distribution, "item-visitors-02")
    for code in (first, first, second):
        assert (await distribution.visit(f"/r/{code}", FIREFOX))[0] == 302
    clicks = await clicked(distribution, 3)  # in order per share (its key), not across shares
    by_share = {share: [c["visitor"] for c in clicks if c["share_id"] == share] for share in {c["share_id"] for c in clicks}}
    (twice,) = [visitors for visitors in by_share.values() if len(visitors) == 2]
    (once,) = [visitors for visitors in by_share.values() if len(visitors) == 1]
    assert twice[0] == twice[1] != once[0]


async def test_the_hash_is_keyed_by_a_random_salt_of_the_day_and_not_by_the_secret_alone(distribution):
    await anna_in_the_audience(distribution)
    code = await a_share(distribution, "item-visitors-03")
    assert (await distribution.visit(f"/r/{code}", FIREFOX))[0] == 302
    (click,) = await clicked(distribution, 1)
    today = datetime.fromisoformat(click["clicked_at"]).date()
    rows = await distribution.fetch("SELECT day, salt FROM visitor_salts")
    assert [r["day"] for r in rows] == [today] and len(rows[0]["salt"]) == visitor_salts.SALT_BYTES

    secret = distribution.settings.click_secret.get_secret_value()
    key = links.day_key(secret, bytes(rows[0]["salt"]))
    assert links.visitor_hash(key, click["share_id"], "127.0.0.1", FIREFOX) == click["visitor"]
    # The review's recovery (Appendix B) keyed the day by the secret alone; it no longer finds anyone.
    old_salt = hmac.new(secret.encode(), today.isoformat().encode(), hashlib.sha256).digest()
    guesses = {hmac.new(old_salt, f"127.0.0.{n}\n{FIREFOX}".encode(), hashlib.sha256).hexdigest()[:32]
               for n in range(256)}
    guesses |= {links.visitor_hash(links.day_key(secret, old_salt), click["share_id"], f"127.0.0.{n}", FIREFOX)
                for n in range(256)}
    assert click["visitor"] not in guesses


async def test_a_second_replica_hashes_a_visitor_as_the_first_did(distribution):
    await anna_in_the_audience(distribution)
    code = await a_share(distribution, "item-visitors-04")
    assert (await distribution.visit(f"/r/{code}", FIREFOX))[0] == 302
    async with distribution.running() as replica:  # its own pool and its own key cache
        transport = httpx.ASGITransport(app=replica.public, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://distribution") as client:
            assert (await client.get(f"/r/{code}", headers={"User-Agent": FIREFOX})).status_code == 302
        clicks = await clicked(distribution, 2)
    assert clicks[0]["visitor"] == clicks[1]["visitor"]
    assert await distribution.count("visitor_salts") == 1


async def test_replicas_racing_on_the_first_click_of_a_day_get_one_salt(distribution):
    day = date(2031, 5, 17)  # a day no click has made a salt for
    conns = [await asyncpg.connect(distribution.settings.database_url) for _ in range(4)]
    try:
        salts = await asyncio.gather(*(visitor_salts.salt_of(conn, day) for conn in conns))
    finally:
        for conn in conns:
            await conn.close()
    assert len(set(salts)) == 1 and len(salts[0]) == visitor_salts.SALT_BYTES
    assert await distribution.fetchval("SELECT count(*) FROM visitor_salts WHERE day = $1", day) == 1


async def test_salts_of_past_days_are_deleted_so_their_hashes_can_never_be_made_again(distribution):
    today = datetime.now(UTC).date()
    past = [today - timedelta(days=n) for n in (2, 3, 40)]
    conn = await asyncpg.connect(distribution.settings.database_url)
    try:
        for day in [*past, today]:
            await visitor_salts.salt_of(conn, day)
    finally:
        await conn.close()
    assert await distribution.count("visitor_salts") == 4
    async with distribution.running():  # a replica starting runs the schedule's first pass at once
        await distribution.until("SELECT array_agg(day ORDER BY day) FROM visitor_salts", [today],
                                 what="past days' salts deleted")


async def test_the_redirects_port_serves_no_health_readiness_or_metrics(distribution):
    for path in ("/metrics", "/ready", "/health"):
        assert (await distribution.get(path)).status_code == 404, path
        assert (await distribution.management(path)).status_code == 200, path
    assert "advocacy_outbox_backlog" in (await distribution.management("/metrics")).text
    await anna_in_the_audience(distribution)
    code = await a_share(distribution, "item-visitors-05")
    assert (await distribution.visit(f"/r/{code}"))[0] == 302
    assert (await distribution.management(f"/r/{code}")).status_code == 404  # and no redirect there


async def test_metrics_are_not_behind_any_path_of_the_public_port(distribution):
    for path in ("/metrics/", "/r/../metrics", "/api/../metrics", "//metrics", "/METRICS"):
        response = await distribution.get(path)
        assert "advocacy_" not in response.text, path

