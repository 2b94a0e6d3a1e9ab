"""A real Chromium (Debian's package) driven by Selenium through the system chromedriver.

No browser is downloaded: Selenium is handed /usr/bin/chromedriver (without it, Selenium
Manager would try the network). Chromium runs headless with the flags this machine needs
(../shared/NOTES.md; the environment's notes: without the background-networking flags it
tries Google's hosts at every start), and with every host but loopback resolving to
nothing, so a test that opens a network's share intent sends nothing off the machine.

axe-core comes from npm (package.json here; `npm ci` puts it in node_modules/) and is
injected into the page by the test, never served by the portal.
"""

import csv
import io
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

HERE = Path(__file__).parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900",
         '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost')


def missing_tools() -> str | None:
    """What the browser tests need and this machine lacks, as an instruction; None if all is there."""
    if not shutil.which("chromedriver") or not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "install Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver; `make test` does)"
    if not AXE.exists():
        return f"install axe-core from npm: npm ci --prefix {HERE} (`make test` does)"
    return None


class Browser:
    """One browser profile (its own cookies), at the portal's `base` URL."""

    def __init__(self, base: str, profile: Path, downloads: Path, lang: str = "en") -> None:
        options = webdriver.ChromeOptions()
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--lang={lang}")
        options.add_experimental_option("prefs", {
            "intl.accept_languages": lang, "download.default_directory": str(downloads),
            "download.prompt_for_download": False})
        self.driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)
        self.driver.set_page_load_timeout(30)
        self.base, self.downloads = base.rstrip("/"), downloads
        self.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        self.driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": self.base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})

    def close(self) -> None:
        self.driver.quit()

    # --- moving about -------------------------------------------------------------------------
    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    @property
    def path(self) -> str:
        url = self.driver.current_url
        return url[len(self.base):] if url.startswith(self.base) else url

    def sign_in(self, username: str, password: str, path: str = "/consent") -> None:
        """Open `path`; the portal sends an unknown browser to Keycloak's form, which sends it back."""
        self.open(path)
        self.wait(lambda: self.driver.find_elements(By.ID, "username") or self.path.startswith(path))
        if self.driver.find_elements(By.ID, "username"):
            self.driver.find_element(By.ID, "username").send_keys(username)
            self.driver.find_element(By.ID, "password").send_keys(password)
            self.driver.find_element(By.ID, "kc-login").click()
        self.wait(lambda: self.path.split("#")[0] == path, what=f"back at {path} after signing in")

    def wait(self, condition: Callable[[], object], timeout: float = 20, what: str = "the page") -> None:
        try:
            # A form's answer replaces the page while the condition reads it: look again.
            WebDriverWait(self.driver, timeout, poll_frequency=0.2, ignored_exceptions=(
                NoSuchElementException, StaleElementReferenceException)).until(lambda _: condition())
        except TimeoutException:
            raise AssertionError(f"timed out waiting for {what}; at {self.path}") from None

    def until_on_page(self, path: str, check: Callable[[], bool], timeout: float = 45, what: str = "") -> None:
        """Reload `path` until `check()` holds: what other services do takes its time."""
        deadline = time.monotonic() + timeout
        while True:
            self.open(path)
            if check():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what or path}")
            time.sleep(1)

    # --- reading ------------------------------------------------------------------------------
    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str = "main") -> str:
        return self.find(css).text

    def html(self) -> str:
        return self.driver.page_source

    # --- checking -----------------------------------------------------------------------------
    def axe(self) -> list[dict]:
        """axe-core's violations of impact serious or critical on the page as it is now."""
        self.driver.execute_script(AXE.read_text())
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(r.violations)),"
            " e => done(JSON.stringify([{id: 'axe-error', impact: 'critical', help: String(e)}])));")
        return [v for v in json.loads(result) if v.get("impact") in ("serious", "critical")]

    def screenshot(self, path: Path) -> None:
        height = self.driver.execute_script("return Math.min(document.body.scrollHeight, 4000)")
        self.driver.set_window_size(1280, max(height, 700))
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(1280, 900)

    def downloaded(self, suffix: str, timeout: float = 20) -> Path:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [p for p in self.downloads.iterdir() if p.name.endswith(suffix)]
            if done:
                return done[0]
            time.sleep(0.2)
        raise AssertionError(f"no {suffix} file downloaded into {self.downloads}")


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
