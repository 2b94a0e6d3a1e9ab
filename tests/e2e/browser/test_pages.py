"""Every page of the portal, in a real browser: axe-core finds no serious or critical
violation on any of them, the consent centre stays small, and with PORTAL_SCREENSHOTS
set (`make screenshots`) each page is saved as a PNG there (the consent centre in both
languages)."""

import os
import uuid
from pathlib import Path

from tests.e2e.browser.browser import Browser
from tests.e2e.browser.conftest import signed_in
from tests.e2e.browser.test_walks import draft_and_submit, status_of

SHOTS = Path(os.environ["PORTAL_SCREENSHOTS"]) if os.environ.get("PORTAL_SCREENSHOTS") else None


class Pages:
    """Visits pages, collecting axe's findings and, if asked, screenshots."""

    def __init__(self) -> None:
        self.violations: dict[str, list[str]] = {}
        self.seen: list[str] = []

    def check(self, browser: Browser, name: str, path: str | None = None) -> None:
        if path is not None:
            browser.open(path)
        self.seen.append(name)
        found = browser.axe()
        if found:
            self.violations[name] = [f"{v['id']} ({v['impact']}): {v.get('help')}" for v in found]
        if SHOTS is not None:
            SHOTS.mkdir(parents=True, exist_ok=True)
            browser.screenshot(SHOTS / f"{name}.png")


def test_every_page_has_no_serious_or_critical_accessibility_violation(portal, open_browser):
    pages = Pages()
    visitor = open_browser()
    pages.check(visitor, "start", "/")

    dan = signed_in(open_browser, portal, "dan")
    for purpose in ("receive_content", "share_attribution", "scheduled_sharing"):
        dan.find(f"#purpose-{purpose} [data-action=give]").click()
        dan.wait(lambda p=purpose: status_of(dan, p) == "given", what=f"{purpose} given")
    dan.find("#purpose-leaderboard [data-action=refuse]").click()
    dan.wait(lambda: status_of(dan, "leaderboard") == "refused", what="leaderboard refused")
    assert len(dan.html().encode()) < 50_000  # the consent centre's HTML stays under 50 KB
    pages.check(dan, "consent-en", "/consent")
    dan.open("/lang/de?next=/consent")
    assert "Ihre Einwilligungen" in dan.text("h1")
    pages.check(dan, "consent-de")
    dan.open("/lang/en?next=/consent")

    eve = signed_in(open_browser, portal, "eve", "/editor/items")
    pages.check(eve, "editor-new-item", "/editor/items/new")
    title = f"Our new canteen opens {uuid.uuid4().hex[:4]}"
    item_id = draft_and_submit(eve, title)
    pages.check(eve, "editor-item", f"/editor/items/{item_id}")
    pages.check(eve, "editor-items", "/editor/items")
    pages.check(eve, "editor-campaigns", "/editor/campaigns")
    pages.check(eve, "editor-sources", "/editor/sources")

    pat = signed_in(open_browser, portal, "pat", "/editor/review")
    pages.check(pat, "editor-review-queue")
    pat.open(f"/editor/items/{item_id}")
    pat.find("[data-action=approve]").click()
    pat.wait(lambda: pat.all("[data-action=publish]"), what="approved")
    pat.find("[data-action=publish]").click()
    pat.wait(lambda: pat.find("p.status[data-status]").get_attribute("data-status") == "published", what="published")

    dan.until_on_page("/feed", lambda: bool(dan.all(f"[data-item='{item_id}']")), what="the item in dan's feed")
    pages.check(dan, "feed")
    dan.find(f"#share-{item_id}-x [data-share=x]").click()
    dan.wait(lambda: dan.path.startswith("/shares/"), what="the share's page")
    pages.check(dan, "share")
    pages.check(dan, "shares", "/shares")
    pages.check(dan, "impact", "/impact")
    pages.check(dan, "leaderboard", "/leaderboard")
    pages.check(dan, "erase-me", "/consent/erase")

    ana = signed_in(open_browser, portal, "ana", "/reports")
    pages.check(ana, "reports")

    assert pages.violations == {}, pages.violations
    assert len(pages.seen) == 16
