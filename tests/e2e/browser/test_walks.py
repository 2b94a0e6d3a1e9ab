"""People walking through the portal in a real browser, signed in at the real Keycloak,
against the four services as processes: what the issue (#18) says a person must be able
to do, and what they must not."""

import uuid

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.e2e.browser.browser import Browser, csv_rows
from tests.e2e.browser.conftest import signed_in


def status_of(browser: Browser, purpose: str) -> str:
    return browser.find(f"#purpose-{purpose} [data-status]").get_attribute("data-status")


def draft_and_submit(browser: Browser, title: str) -> str:
    """As an editor: a new draft with suggested texts, submitted; returns the item's id."""
    browser.open("/editor/items/new")
    browser.find("#title").send_keys(title)
    browser.find("#summary").send_keys("What the works council agreed on remote work.")
    browser.find("#source_url").send_keys("https://example.com/news/remote-work")
    browser.find("#disclosure").send_keys("#employee")
    browser.find("#text_linkedin").send_keys(f"{title}: read how we decided it together.")
    browser.find("#text_x").send_keys(f"{title} — how we decided it.")
    browser.find("#draft button[type=submit]").click()
    browser.wait(lambda: browser.path.startswith("/editor/items/") and "new" not in browser.path, what="the new item")
    item_id = browser.path.split("/")[3].split("#")[0]
    previews = {p.get_attribute("data-preview"): p for p in browser.all("[data-preview]")}
    assert set(previews) == {"linkedin", "x"}
    x_count = previews["x"].find_element(By.CSS_SELECTOR, "[data-length]")
    assert 0 < int(x_count.get_attribute("data-length")) <= int(x_count.get_attribute("data-limit")) == 280
    browser.find("form[action$='/submit'] button").click()
    browser.wait(lambda: browser.find("[data-status]").get_attribute("data-status") == "in_review", what="in review")
    return item_id


def test_an_advocate_gives_consent_sees_an_approved_item_shares_it_withdraws_and_it_leaves_the_feed(
        portal, open_browser):
    ada = signed_in(open_browser, portal, "ada")
    assert status_of(ada, "receive_content") == "none"
    assert not ada.all("input[type=checkbox]:checked, input[type=radio]:checked")  # nothing pre-selected
    ada.find("#purpose-receive_content [data-action=give]").click()
    ada.wait(lambda: status_of(ada, "receive_content") == "given", what="receive_content given")
    assert "recorded" in ada.text("#purpose-receive_content [data-message]")

    title = f"Remote work, agreed {uuid.uuid4().hex[:6]}"
    eve = signed_in(open_browser, portal, "eve", "/editor/items")
    item_id = draft_and_submit(eve, title)

    pat = signed_in(open_browser, portal, "pat", "/editor/review")
    assert title in pat.text()
    pat.open(f"/editor/items/{item_id}")
    assert "adv-" in pat.text("[data-role=drafted_by]")  # four eyes visible: who drafted it
    pat.find("[data-action=approve]").click()
    pat.wait(lambda: pat.find("p.status[data-status]").get_attribute("data-status") == "approved", what="approved")
    pat.find("[data-action=publish]").click()
    pat.wait(lambda: pat.find("p.status[data-status]").get_attribute("data-status") == "published", what="published")

    ada.until_on_page("/feed", lambda: bool(ada.all(f"[data-item='{item_id}']")), what="the item in ada's feed")
    card = ada.find(f"[data-item='{item_id}']")
    assert title in card.text
    assert "#employee" in card.find_element(By.CSS_SELECTOR, "#share-" + item_id + "-linkedin .post-text").text
    assert ada.find("#no-scheduling").is_displayed()  # no scheduled_sharing: the page says why there is no schedule
    assert "of 3,000 characters" in card.find_element(By.CSS_SELECTOR, f"#share-{item_id}-linkedin .count").text
    card.find_element(By.CSS_SELECTOR, "[data-share=linkedin]").click()
    ada.wait(lambda: ada.path.startswith("/shares/"), what="the share's page")
    assert "#employee" in ada.find("[data-post]").get_attribute("value")
    assert "takes only the link" in ada.text("#copy-note")
    copy = ada.find("[data-copy]")
    copy.click()
    ada.wait(lambda: copy.get_attribute("data-copied-done") == "yes", what="the post copied to the clipboard")
    assert "Copied" in ada.text("#copy-status")
    ada.driver.switch_to.window(ada.driver.window_handles[0])
    share_id = ada.path.split("/")[2]
    ada.open("/shares")
    assert ada.find(f"[data-share-id='{share_id}'] [data-status]").get_attribute("data-status") == "created"

    ada.open("/consent")
    ada.find("#purpose-receive_content [data-action=withdraw]").click()
    ada.wait(lambda: status_of(ada, "receive_content") == "withdrawn", what="receive_content withdrawn")
    ada.until_on_page("/feed", lambda: not ada.all(f"[data-item='{item_id}']"), what="the item gone from the feed")
    assert "empty" in ada.text("[data-empty=feed]")


def test_an_advocate_who_never_answered_sees_an_empty_feed_and_every_purpose_unanswered(portal, open_browser):
    ben = signed_in(open_browser, portal, "ben", "/feed")
    assert ben.all("[data-empty=feed]") and not ben.all("[data-item]")
    assert "Receive content" in ben.text("[data-empty=feed]")
    ben.open("/consent")
    statuses = [e.get_attribute("data-status") for e in ben.all(".purpose [data-status]")]
    assert statuses == ["none"] * 5
    # Every purpose offers yes and no alike; nothing is chosen in advance.
    assert len(ben.all("[data-action=give]")) == len(ben.all("[data-action=refuse]")) == 5
    assert not ben.all("input:checked")


def test_an_editor_who_is_also_an_approver_cannot_approve_their_own_item_and_the_page_says_why(portal, open_browser):
    mia = signed_in(open_browser, portal, "mia", "/editor/items")
    item_id = draft_and_submit(mia, f"Own item {uuid.uuid4().hex[:6]}")
    assert not mia.all("[data-action=approve]")
    assert "four eyes" in mia.text("[data-why=four_eyes]")
    mia.open("/editor/review")
    assert mia.find(f"tr[data-item='{item_id}'] [data-may-approve]").get_attribute("data-may-approve") == "no"


def test_an_analyst_downloads_a_csv_whose_figures_match_the_report_page(portal, open_browser):
    ana = signed_in(open_browser, portal, "ana", "/reports")
    shown = {e.get_attribute("data-figure"): e for e in ana.all("[data-figures=totals] [data-figure]")}
    ana.find("[data-csv]").click()
    rows = csv_rows(ana.downloaded(".csv"))
    [total] = [row for row in rows if row["dimension"] == "total"]
    for figure in ("shares", "clicks", "unique_clicks", "impressions", "reactions", "comments", "reshares"):
        assert int(shown[figure].text.replace(",", "")) == int(total[figure]), figure
    assert float(shown["engagement_rate"].get_attribute("data-value")) == float(total["engagement_rate"])
    assert shown["emv"].get_attribute("data-value") == total["emv"]
    # Ada's share today is not in it yet: a report counts whole weeks that are over (ADR 0020).


def test_giving_and_withdrawing_consent_works_with_the_keyboard_alone(portal, open_browser):
    cai = signed_in(open_browser, portal, "cai")

    def press(key: str) -> None:
        ActionChains(cai.driver).send_keys(key).perform()

    def tab_to(css: str) -> None:
        target = cai.find(css)
        for _ in range(100):
            press(Keys.TAB)
            if cai.driver.switch_to.active_element == target:
                return
        raise AssertionError(f"{css} is not reachable with the tab key")

    tab_to("#purpose-network_reach [data-action=give]")
    press(Keys.ENTER)
    cai.wait(lambda: status_of(cai, "network_reach") == "given", what="given with the keyboard")
    tab_to("#purpose-network_reach [data-action=withdraw]")
    press(Keys.ENTER)
    cai.wait(lambda: status_of(cai, "network_reach") == "withdrawn", what="withdrawn with the keyboard")


def test_a_session_the_portal_no_longer_knows_leads_to_sign_in_and_back_to_the_page(portal, open_browser):
    dan = signed_in(open_browser, portal, "dan", "/shares")
    cookie = dan.driver.get_cookie("portal_session")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    dan.driver.delete_cookie("portal_session")
    dan.driver.add_cookie({**{k: cookie[k] for k in ("name", "path", "httpOnly")}, "value": "expired-session-id"})
    dan.open("/leaderboard")  # Keycloak still knows dan: it sends him straight back, to this page
    dan.wait(lambda: dan.path == "/leaderboard", what="back at the leaderboard")
    assert dan.all("[data-absent=leaderboard]")
