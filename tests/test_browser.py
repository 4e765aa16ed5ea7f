"""The respondent pages in a real browser: headless Chromium at 360x640, JavaScript on and off.

Needs Debian's chromium and chromium-driver, and axe-core (`npm install --prefix .browser-tools
axe-core@4`); `.ci/run` installs all three. Without them these tests are skipped, saying why,
except under CI=true, where a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from survey_app import create_app, migrate, sealing
from survey_app.responses import OpenedResponse, open_responses, wrapped_keys
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, ROOT, deploy, make_settings

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
AXE = ROOT / ".browser-tools" / "node_modules" / "axe-core" / "axe.min.js"
EXIT_URL = "https://exit.invalid/"
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


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


def make_driver(javascript: bool) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
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


def axe_violations(driver: webdriver.Chrome) -> list[str]:
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


def answer_service_feedback(
    driver: webdriver.Chrome, base: str, token: str, lang: str, *, scan: bool
) -> list[str]:
    """Answer the service feedback survey through its pages; returns axe findings if scanning."""
    findings: list[str] = []

    def check(where: str) -> None:
        assert (
            driver.execute_script("return document.documentElement.lang") == lang
            or where == "landing"
        )
        if scan:
            findings.extend(f"{where}: {v}" for v in axe_violations(driver))

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
    while "/p/" in driver.current_url:
        check(f"page {driver.current_url.rsplit('/', 1)[1]}")
        if driver.find_elements(By.CSS_SELECTOR, 'textarea[name="what_should_change"]'):
            driver.find_element(By.CSS_SELECTOR, 'textarea[name="what_should_change"]').send_keys(
                "Longer opening hours"
            )
        click_and_wait(driver, 'button[value="next"]')
    assert "/done/" in driver.current_url
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


def test_no_accessibility_violations_on_any_respondent_page(
    site: tuple[LiveSite, Any], browser: webdriver.Chrome
) -> None:
    live, deployment = site
    findings = answer_service_feedback(
        browser, live.base, deployment.links["service-feedback"], "en", scan=True
    )
    findings += answer_service_feedback(
        browser, live.base, deployment.links["service-feedback"], "ar", scan=True
    )
    # An error page, and a page showing answer errors.
    browser.get(f"{live.base}/s/no-such-link")
    findings += [f"not found: {v}" for v in axe_violations(browser)]
    browser.get(f"{live.base}/s/{deployment.links['reintegration-checkin']}")
    click_and_wait(browser, 'button[name="lang"][value="en"]')
    choose(browser, "consent", "no")
    click_and_wait(browser, 'button[value="next"]')
    findings += [f"declined: {v}" for v in axe_violations(browser)]
    assert findings == []


def _start_and_type(driver: webdriver.Chrome, base: str, token: str) -> str:
    driver.get(f"{base}/s/{token}")
    click_and_wait(driver, 'button[name="lang"][value="en"]')
    choose(driver, "consent", "yes")
    click_and_wait(driver, 'button[value="next"]')
    choose(driver, "services", "shelter")
    click_and_wait(driver, 'button[value="next"]')
    return driver.current_url


def _assert_left_and_nothing_to_go_back_to(driver: webdriver.Chrome, base: str) -> None:
    WebDriverWait(driver, 10).until(lambda d: d.current_url.startswith(EXIT_URL))
    assert driver.get_cookies() == []  # Clear-Site-Data took the session cookie
    driver.back()
    WebDriverWait(driver, 10).until(lambda d: d.current_url.startswith(base))
    html = driver.page_source
    assert 'value="shelter" checked' not in html
    assert "/p/" not in driver.current_url  # back lands on the neutral start page, not the answers


@pytest.mark.parametrize("browser", [True, False], indirect=True, ids=["js-on", "js-off"])
def test_quick_exit_button(site: tuple[LiveSite, Any], browser: webdriver.Chrome) -> None:
    live, deployment = site
    _start_and_type(browser, live.base, deployment.links["service-feedback"])
    browser.find_element(By.ID, "quick-exit").click()
    _assert_left_and_nothing_to_go_back_to(browser, live.base)


def test_quick_exit_by_pressing_shift_three_times(
    site: tuple[LiveSite, Any], browser: webdriver.Chrome
) -> None:
    live, deployment = site
    _start_and_type(browser, live.base, deployment.links["service-feedback"])
    actions = ActionChains(browser)
    for _ in range(3):
        actions.key_down(Keys.SHIFT).key_up(Keys.SHIFT)
    actions.perform()
    _assert_left_and_nothing_to_go_back_to(browser, live.base)


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
