"""Visitors clicking tracked links through the real redirect, over HTTP, as browsers and
bots would (no redirect is followed: the target is somebody else's site)."""

import random
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

BROWSERS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
            "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0")
BOTS = ("LinkedInBot/1.0 (compatible; Mozilla/5.0)", "facebookexternalhit/1.1", "curl/8.5.0")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def plan(urls: list[str], rng: random.Random) -> list[tuple[str, str, str]]:
    """(url, visitor address, user agent) per click: 0–8 clicks a link, one in ten by a bot."""
    visitors = [f"198.51.100.{n}" for n in range(1, 200)]
    clicks = []
    for url in urls:
        for _ in range(rng.randint(0, 8)):
            agent = rng.choice(BOTS) if rng.random() < 0.1 else rng.choice(BROWSERS)
            clicks.append((url, rng.choice(visitors), agent))
    return clicks


def click(url: str, address: str, agent: str) -> int:
    request = urllib.request.Request(url, headers={"User-Agent": agent, "X-Forwarded-For": address})
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as answer:
        return answer.code


def click_all(clicks: list[tuple[str, str, str]], on_progress=None) -> list[int]:
    statuses = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for status in pool.map(lambda c: click(*c), clicks):
            statuses.append(status)
            if on_progress and (len(statuses) % 25 == 0 or len(statuses) == len(clicks)):
                on_progress(len(statuses), len(clicks))
    return statuses
