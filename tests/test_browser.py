"""The respondent pages in a real browser: headless Chromium at 360x640, JavaScript on and off.

Needs Debian's chromium and chromium-driver, and axe-core (`npm install --prefix .browser-tools
axe-core@4`); `.ci/run` installs all three. Without them these tests are skipped, saying why,
except under CI=true, where a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from survey_app import create_app, migrate
from survey_app.intake.responses import OpenedResponse, open_responses, wrapped_keys
from survey_app.keys import sealing
from survey_app.models import DistributionLink
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, ROOT, deploy, make_settings

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
AXE = ROOT / ".browser-tools" / "node_modules" / "axe-core" / "axe.min.js"
EXIT_URL = "https://exit.invalid/"
# Every rule axe-core has: the WCAG ones and its best practices (`region`: all content inside
# landmarks), at every impact level.
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path, what in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).exists():
            return f"{what} is not installed (apt-get install chromium chromium-driver)"
    if not AXE.exists():
        return "axe-core is not installed (npm install --prefix .browser-tools axe-core@4)"
    return None


MISSING = _missing()
if MISSING and os.environ.get("CI") == "true":
    raise RuntimeError(f"browser tests cannot run in CI: {MISSING}")
if MISSING:
    pytest.skip(MISSING, allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from waitress.server import create_server  # noqa: E402


def make_driver(javascript: bool, profile: Path | None = None) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    if profile is not None:
        options.add_argument(f"--user-data-dir={profile}")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=360,640",
    ):
        options.add_argument(flag)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(20)
    # A phone's viewport: headless windows cannot be made narrower than 500 px.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 360, "height": 640, "deviceScaleFactor": 2, "mobile": True},
    )
    return driver


@pytest.fixture(scope="module")
def drivers() -> Iterator[dict[bool, webdriver.Chrome]]:
    made: dict[bool, webdriver.Chrome] = {}

    class Lazy(dict[bool, webdriver.Chrome]):
        def __missing__(self, javascript: bool) -> webdriver.Chrome:
            made[javascript] = make_driver(javascript)
            self[javascript] = made[javascript]
            return made[javascript]

    yield Lazy()
    for driver in made.values():
        driver.quit()


class LiveSite:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = create_server(app, host="127.0.0.1", port=0, threads=2)
        self.base = f"http://127.0.0.1:{self.server.effective_port}"  # type: ignore[union-attr]
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.close()
        self.thread.join(timeout=5)


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Iterator[tuple[LiveSite, Any]]:
    settings = make_settings(
        tmp_path,
        database_url,
        surveys_dir=str(ROOT / "surveys"),
        respondent={
            "quick_exit_url": EXIT_URL,
            "submissions_per_client_per_minute": 1000,
            "submissions_per_minute": 10_000,
        },
    )
    app = create_app(settings)
    migrate.upgrade(app_state(app).database)
    deployment = deploy(app)
    live = LiveSite(app)
    yield live, deployment
    live.close()
    app_state(app).database.dispose()


@pytest.fixture
def browser(
    request: pytest.FixtureRequest, drivers: dict[bool, webdriver.Chrome]
) -> Iterator[webdriver.Chrome]:
    javascript = bool(getattr(request, "param", True))
    driver = drivers[javascript]
    yield driver
    driver.delete_all_cookies()


def click_and_wait(driver: webdriver.Chrome, selector: str) -> None:
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, selector).click()
    WebDriverWait(driver, 10).until(lambda d: old.id != d.find_element(By.TAG_NAME, "html").id)


def choose(driver: webdriver.Chrome, name: str, value: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f'input[name="{name}"][value="{value}"]').click()


def axe_violations(driver: webdriver.Chrome, scanner: webdriver.Chrome | None = None) -> list[str]:
    """axe-core's findings on the page `driver` shows.

    With JavaScript off the browser cannot run axe's asynchronous checks, so the page as that
    browser shows it (its DOM, its scripts removed, its styles kept) is scanned in `scanner`,
    a browser with JavaScript on.
    """
    if scanner is not None and scanner is not driver:
        html = re.sub(r"<script\b[^>]*>.*?</script>", "", driver.page_source, flags=re.S)
        html = html.replace("<head>", f'<head><base href="{driver.current_url}">', 1)
        # The copy is a file: the site's stylesheets (Cross-Origin-Resource-Policy:
        # same-origin) would not load into it, so they go in as they are.
        html = STYLESHEET.sub(lambda link: _inline_style(driver.current_url, link[1]), html)
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / "page.html"
            copy.write_text(html, encoding="utf-8")
            scanner.get(copy.as_uri())
            return axe_violations(scanner)
    return _axe_run(driver)


STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"[^>]*>')


def _inline_style(page_url: str, href: str) -> str:
    with urllib.request.urlopen(urllib.parse.urljoin(page_url, href), timeout=10) as reply:
        return f"<style>{reply.read().decode('utf-8')}</style>"


def _axe_run(driver: webdriver.Chrome) -> list[str]:
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(JSON.stringify(r.violations)), e => done(JSON.stringify([{id: String(e)}])));",
        AXE_RULES,
    )
    return [
        f"{v['id']}: {[n['target'] for n in v.get('nodes', [])][:3]}" for v in json.loads(result)
    ]


def current_page(driver: webdriver.Chrome) -> str:
    field = driver.find_element(By.CSS_SELECTOR, 'input[name="page"]')
    return str(field.get_attribute("value"))


def answer_service_feedback(
    driver: webdriver.Chrome,
    base: str,
    token: str,
    lang: str,
    *,
    scan: bool,
    scanner: webdriver.Chrome | None = None,
) -> list[str]:
    """Answer the service feedback survey through its pages; returns axe findings if scanning."""
    findings: list[str] = []

    def check(where: str) -> None:
        assert (
            driver.execute_script("return document.documentElement.lang") == lang
            or where == "landing"
        )
        if scan:
            findings.extend(f"{where}: {v}" for v in axe_violations(driver, scanner))

    driver.get(f"{base}/s/{token}")
    check("landing")
    click_and_wait(driver, f'button[name="lang"][value="{lang}"]')
    assert driver.execute_script("return document.documentElement.dir") == (
        "rtl" if lang == "ar" else "ltr"
    )
    check("consent page")
    choose(driver, "consent", "yes")
    click_and_wait(driver, 'button[value="next"]')
    check("page 2")
    choose(driver, "services", "legal")
    choose(driver, "services", "medical")
    click_and_wait(driver, 'button[value="next"]')
    while driver.find_elements(By.CSS_SELECTOR, 'input[name="page"]'):
        check(f"page {current_page(driver)}")
        if driver.find_elements(By.CSS_SELECTOR, 'textarea[name="what_should_change"]'):
            driver.find_element(By.CSS_SELECTOR, 'textarea[name="what_should_change"]').send_keys(
                "Longer opening hours"
            )
        click_and_wait(driver, 'button[value="next"]')
    assert driver.current_url == f"{base}/s/{token}"  # one address for the whole survey
    assert not driver.find_elements(By.CSS_SELECTOR, 'input[name="draft"]')
    check("thank-you")
    return findings


def read_back(live: LiveSite, deployment: Any, survey_id: str) -> list[OpenedResponse]:
    state = app_state(live.app)
    with (
        state.database.session() as session,
        sealing.UnlockedKeys.unlock(
            wrapped_keys(session, deployment.programme_id), PASSPHRASE
        ) as keys,
    ):
        return [
            r for r in open_responses(session, survey_id, keys) if isinstance(r, OpenedResponse)
        ]


@pytest.mark.parametrize("browser", [True, False], indirect=True, ids=["js-on", "js-off"])
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_full_survey_on_a_phone(
    site: tuple[LiveSite, Any], browser: webdriver.Chrome, lang: str
) -> None:
    live, deployment = site
    answer_service_feedback(
        browser, live.base, deployment.links["service-feedback"], lang, scan=False
    )
    (response,) = read_back(live, deployment, "service-feedback")
    assert response.meta.language == lang
    assert sorted(response.answers["services"]) == ["legal", "medical"]
    assert response.answers["what_should_change"] == "Longer opening hours"
    # The page fits a 360 px screen: nothing scrolls sideways.
    assert browser.execute_script("return window.innerWidth") == 360
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 360


@pytest.mark.parametrize("browser", [True, False], indirect=True, ids=["js-on", "js-off"])
def test_no_accessibility_violations_on_any_respondent_page(
    site: tuple[LiveSite, Any],
    browser: webdriver.Chrome,
    drivers: dict[bool, webdriver.Chrome],
) -> None:
    live, deployment = site
    token = deployment.links["service-feedback"]
    scanner = drivers[True]
    findings = answer_service_feedback(browser, live.base, token, "en", scan=True, scanner=scanner)
    findings += answer_service_feedback(browser, live.base, token, "ar", scan=True, scanner=scanner)

    def scan(where: str) -> None:
        findings.extend(f"{where}: {v}" for v in axe_violations(browser, scanner))

    # Error pages, a page showing answer errors, a language changed, start again, closed.
    browser.get(f"{live.base}/s/no-such-link")
    scan("not found")
    for lang in ("en", "ar"):
        browser.get(f"{live.base}/s/{token}")
        click_and_wait(browser, f'button[name="lang"][value="{lang}"]')
        click_and_wait(browser, 'button[value="next"]')
        scan(f"[{lang}] answer errors")
        other = "ar" if lang == "en" else "en"
        click_and_wait(browser, f'button[name="switch_lang"][value="{other}"]')
        scan(f"[{lang}] language changed")
    # A page whose key was already replaced (as a re-sent old form carries): start again.
    browser.execute_script("document.querySelector('main input[name=draft]').value = 'x.y';")
    click_and_wait(browser, 'button[value="next"]')
    assert "Please start again" in browser.page_source
    scan("start again")
    browser.get(f"{live.base}/s/{deployment.links['reintegration-checkin']}")
    click_and_wait(browser, 'button[name="lang"][value="en"]')
    choose(browser, "consent", "no")
    click_and_wait(browser, 'button[value="next"]')
    scan("declined")
    with app_state(live.app).database.session() as session:
        session.execute(update(DistributionLink).values(active=False))
    browser.get(f"{live.base}/s/{token}")
    scan("closed")
    assert findings == []


SENTINEL = "Sentinel Harbourside"


def _start_and_type(driver: webdriver.Chrome, base: str, token: str) -> list[str]:
    """Answer two pages (one with typed text) and stop on the third; returns the draft keys
    the pages carried."""
    keys = []
    _fresh_tab(driver)
    driver.get(f"{base}/s/{token}")
    click_and_wait(driver, 'button[name="lang"][value="en"]')
    keys.append(_draft_key(driver))
    choose(driver, "consent", "yes")
    click_and_wait(driver, 'button[value="next"]')
    keys.append(_draft_key(driver))
    choose(driver, "services", "shelter")
    choose(driver, "services", "other")
    driver.find_element(By.ID, "services_other").send_keys(SENTINEL)
    click_and_wait(driver, 'button[value="next"]')
    keys.append(_draft_key(driver))
    assert driver.current_url == f"{base}/s/{token}"
    return keys


def _fresh_tab(driver: webdriver.Chrome) -> None:
    """A new tab with no history (the driver is shared between the tests of this module)."""
    old = driver.window_handles
    driver.switch_to.new_window("tab")
    new = driver.current_window_handle
    for handle in old:
        driver.switch_to.window(handle)
        driver.close()
    driver.switch_to.window(new)


def _draft_key(driver: webdriver.Chrome) -> str:
    field = driver.find_element(By.CSS_SELECTOR, 'main input[name="draft"]')
    return str(field.get_attribute("value"))


def _shows_no_answer(driver: webdriver.Chrome) -> None:
    html = driver.page_source
    assert SENTINEL not in html
    assert 'value="shelter" checked' not in html
    assert not driver.find_elements(By.CSS_SELECTOR, "input:checked")
    assert not driver.find_elements(By.CSS_SELECTOR, 'input[name="draft"]')


def _history(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = driver.execute_cdp_cmd("Page.getNavigationHistory", {})[
        "entries"
    ]
    return entries


def _nothing_reachable(
    driver: webdriver.Chrome, live: LiveSite, token: str, keys: list[str], *, tab_closed: bool
) -> None:
    """What someone picking up the phone afterwards could try, in this tab and a new one.

    `keys` are the draft fields of every page shown. When the tab was closed, the last one was
    never sent anywhere: the server still holds that draft (until the idle purge), and the
    browser must hold nothing of it.
    """
    base = live.base
    survey_url = f"{base}/s/{token}"
    # History holds the survey's one neutral address (and the neutral exit site), no page of
    # its own, no /exit, and only neutral titles.
    for entry in _history(driver):
        assert entry["url"] in (survey_url, EXIT_URL, "about:blank") or entry["url"].startswith(
            ("chrome://", "data:")
        ), entry
        assert (
            entry["title"] in ("Feedback", "", survey_url, EXIT_URL)
            or "exit.invalid" in str(entry["title"])
            or entry["url"] != survey_url
        ), entry
    # Back through every entry: none shows an answer (a POST page is not kept: the browser shows
    # its "confirm resubmission" page, and re-sending it would carry a key already replaced).
    while driver.execute_script("return window.history.length") > 1 and _can_go_back(driver):
        driver.back()
        WebDriverWait(driver, 10).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )
        _shows_no_answer(driver)
    # The cookies hold no answer and no draft key.
    serializer = live.app.session_interface.get_signing_serializer(live.app)  # type: ignore[attr-defined]
    for cookie in driver.execute_cdp_cmd("Storage.getCookies", {})["cookies"]:
        content = json.dumps(serializer.loads(cookie["value"])) if cookie["name"] == "s" else ""
        content += cookie["value"]
        assert SENTINEL not in content and "shelter" not in content
        assert not any(part in content for key in keys for part in key.split("."))
    # Reopening the link, in this tab and in a new one: the neutral start, saying so.
    for _ in range(2):
        driver.get(survey_url)
        _shows_no_answer(driver)
        assert "If you close it or leave, nothing is kept" in driver.page_source
        assert driver.execute_script("return localStorage.length + sessionStorage.length") == 0
        driver.switch_to.new_window("tab")
    driver.close()
    driver.switch_to.window(driver.window_handles[0])
    # The server forgot the draft or can no longer open it with anything the browser kept.
    with app_state(live.app).database.session() as session:
        from survey_app.intake.drafts import DraftExpired, DraftHandle, DraftStore

        store = DraftStore(session, timedelta(minutes=30))
        for key in keys[:-1] if tab_closed else keys:
            handle = DraftHandle.from_field(key)
            assert handle is not None
            with pytest.raises(DraftExpired):
                store.load(handle)


def _can_go_back(driver: webdriver.Chrome) -> bool:
    history = driver.execute_cdp_cmd("Page.getNavigationHistory", {})
    return int(history["currentIndex"]) > 0


def _left(driver: webdriver.Chrome) -> None:
    try:
        WebDriverWait(driver, 10).until(lambda d: d.current_url.startswith(EXIT_URL))
    except Exception:
        print("URL", driver.current_url, _history(driver), driver.page_source[:3000])
        raise
    assert driver.get_cookies() == []  # Clear-Site-Data took the session cookie


@pytest.mark.parametrize("browser", [True, False], indirect=True, ids=["js-on", "js-off"])
def test_quick_exit_button(site: tuple[LiveSite, Any], browser: webdriver.Chrome) -> None:
    live, deployment = site
    token = deployment.links["service-feedback"]
    keys = _start_and_type(browser, live.base, token)
    browser.find_element(By.ID, "quick-exit").click()
    _left(browser)
    _nothing_reachable(browser, live, token, keys, tab_closed=False)


def test_quick_exit_by_pressing_shift_three_times(
    site: tuple[LiveSite, Any], browser: webdriver.Chrome
) -> None:
    live, deployment = site
    token = deployment.links["service-feedback"]
    keys = _start_and_type(browser, live.base, token)
    status = browser.find_element(By.ID, "exit-status")
    announced = []
    for _ in range(2):
        ActionChains(browser).key_down(Keys.SHIFT).key_up(Keys.SHIFT).perform()
        announced.append(status.text or status.get_attribute("textContent"))
    # Each press is announced to screen readers and shown beside the button.
    assert announced == [
        "Shift, press 2 more times to leave",
        "Shift, press 1 more time to leave",
    ]
    lit = browser.find_elements(By.CSS_SELECTOR, "#exit-presses span.on")
    assert len(lit) == 2
    ActionChains(browser).key_down(Keys.SHIFT).key_up(Keys.SHIFT).perform()
    _left(browser)
    _nothing_reachable(browser, live, token, keys, tab_closed=False)


def test_the_exit_button_is_labelled_emergency_and_shows_an_overlay(
    site: tuple[LiveSite, Any], browser: webdriver.Chrome
) -> None:
    live, deployment = site
    browser.get(f"{live.base}/s/{deployment.links['service-feedback']}")
    button = browser.find_element(By.ID, "quick-exit")
    assert str(button.get_attribute("textContent")).strip().startswith("Emergency")
    hidden = button.find_element(By.CSS_SELECTOR, ".visually-hidden")
    assert hidden.size["width"] <= 1  # "Emergency" is for screen readers only
    # Hold the exit so the overlay can be seen: the neutral site is slow to answer.
    browser.execute_script(
        "document.querySelector('.exit-form').setAttribute('data-exit-url', 'about:blank');"
        "window.fetch = function () { return new Promise(function () {}); };"
        "window.setTimeout = function () {};"
    )
    button.click()
    overlay = browser.find_element(By.CSS_SELECTOR, ".exit-overlay")
    assert overlay.is_displayed() and overlay.text == "Leaving this page"
    assert not browser.find_element(By.TAG_NAME, "main").is_displayed()


@pytest.mark.parametrize("browser", [True, False], indirect=True, ids=["js-on", "js-off"])
def test_closing_the_tab_leaves_nothing_reachable(
    site: tuple[LiveSite, Any], browser: webdriver.Chrome
) -> None:
    live, deployment = site
    token = deployment.links["service-feedback"]
    keys = _start_and_type(browser, live.base, token)
    survey_tab = browser.current_window_handle
    browser.switch_to.new_window("tab")
    other = browser.current_window_handle
    browser.switch_to.window(survey_tab)
    browser.close()
    browser.switch_to.window(other)
    _nothing_reachable(browser, live, token, keys, tab_closed=True)
    # The last page's key was never sent, so the server cannot tell the tab is gone: the draft
    # stays unreadable until it is purged after the idle time.


def test_closing_the_browser_leaves_nothing_reachable(
    site: tuple[LiveSite, Any], tmp_path: Path
) -> None:
    live, deployment = site
    token = deployment.links["service-feedback"]
    profile = tmp_path / "profile"
    driver = make_driver(True, profile)
    try:
        keys = _start_and_type(driver, live.base, token)
    finally:
        driver.quit()
    # The browser's own history database: the survey's one address, under a neutral title.
    with sqlite3.connect(profile / "Default" / "History") as history:
        visited = history.execute("SELECT url, title FROM urls").fetchall()
    assert visited == [(f"{live.base}/s/{token}", "Feedback")]
    driver = make_driver(True, profile)
    try:
        _nothing_reachable(driver, live, token, keys, tab_closed=True)
    finally:
        driver.quit()


def test_the_accessibility_scan_finds_a_known_fault(
    browser: webdriver.Chrome, tmp_path: Path
) -> None:
    """The scanner itself works: an unlabelled input on a low-contrast page is reported."""
    page = tmp_path / "faulty.html"
    page.write_text(
        '<!doctype html><html lang="en"><title>t</title><body><main>'
        '<input type="text"><p style="color:#bbb;background:#fff">faint</p></main></body></html>',
        encoding="utf-8",
    )
    browser.get(page.as_uri())
    found = " ".join(axe_violations(browser))
    assert "label" in found and "color-contrast" in found


@pytest.mark.parametrize("browser", [True, False], indirect=True, ids=["js-on", "js-off"])
def test_a_follow_up_on_the_same_page_appears_when_it_applies(
    site: tuple[LiveSite, Any], browser: webdriver.Chrome, request: pytest.FixtureRequest
) -> None:
    live, deployment = site
    javascript = "js-on" in request.node.callspec.id
    browser.get(f"{live.base}/s/{deployment.links['service-feedback']}")
    click_and_wait(browser, 'button[name="lang"][value="en"]')
    choose(browser, "consent", "yes")
    click_and_wait(browser, 'button[value="next"]')
    while not browser.find_elements(By.CSS_SELECTOR, 'input[name="gender"]'):
        click_and_wait(browser, 'button[value="next"]')
    follow_up = browser.find_element(By.ID, "gender_self_described")
    assert follow_up.is_displayed() is not javascript  # hidden until it applies, when JS runs
    choose(browser, "gender", "self_described")
    assert follow_up.is_displayed()
