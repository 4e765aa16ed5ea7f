"""Staff pages in a real browser at phone size: nothing pushes the page wider than the screen.

Uses the browser, server and accessibility helpers of test_browser.py (and is skipped with it
when Chromium, its driver or axe-core are missing).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from survey_app import create_app, migrate
from survey_app.models import DistributionLink, Role
from survey_app.staff import audit
from survey_app.state import app_state
from tests.support.apps import ROOT, deploy, make_settings
from tests.support.staff import PASSWORD, make_account
from tests.test_browser import (
    EXIT_URL,
    SENTINEL,
    LiveSite,
    _can_go_back,
    axe_violations,
    browser,  # noqa: F401 (fixture)
    choose,
    click_and_wait,
    drivers,  # noqa: F401 (fixture)
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cheap_password_hashing")]

WIDTH = 360
LONG_SITE = "Community centre on the far side of the river, second floor"


@pytest.fixture
def staff_site(tmp_path: Path, database_url: str) -> Iterator[tuple[LiveSite, Any, str]]:
    """A deployment with a long-named site, several members and a busy audit log."""
    settings = make_settings(
        tmp_path,
        database_url,
        surveys_dir=str(ROOT / "surveys"),
        respondent={"quick_exit_url": EXIT_URL},
    )
    app = create_app(settings)
    migrate.upgrade(app_state(app).database)
    deployment = deploy(app, site=LONG_SITE)
    secret = _accounts(app, deployment.programme_id)
    live = LiveSite(app)
    yield live, deployment, secret
    live.close()
    app_state(app).database.dispose()


def _accounts(app: Flask, programme_id: int) -> str:
    admin = make_account(
        app, "administrator", role=Role.ADMIN, programme_id=programme_id, totp=True
    )
    for number, role in enumerate(
        (Role.ANALYST, Role.VIEWER, Role.CASEWORKER, Role.CASEWORKER), start=1
    ):
        make_account(
            app,
            f"a-rather-long-user-name-{number}",
            role=role,
            programme_id=programme_id,
            totp=role is Role.ANALYST,
        )
    with app_state(app).database.session() as db:
        for _ in range(3):
            audit.record(
                db,
                "administrator",
                "programme.update",
                programme_id,
                "a long detail that goes on and on about what was changed and why it was changed",
            )
    assert admin.totp_secret
    return admin.totp_secret


def sign_in(driver: Any, base: str, secret: str) -> None:
    driver.get(f"{base}/auth/sign-in")
    driver.find_element("id", "username").send_keys("administrator")
    driver.find_element("id", "password").send_keys(PASSWORD)
    click_and_wait(driver, 'main button[type="submit"]')
    driver.find_element("id", "code").send_keys(pyotp.TOTP(secret).now())
    click_and_wait(driver, 'main button[type="submit"]')
    assert driver.current_url.endswith("/staff/")


def overflow(driver: Any) -> int:
    """How far the page reaches past a 360 px screen (a phone zooms out to show it all)."""
    widest = driver.execute_script(
        "return Math.max(window.innerWidth, document.documentElement.scrollWidth)"
    )
    return int(widest) - WIDTH


def test_staff_pages_fit_a_phone_screen(
    staff_site: tuple[LiveSite, Any, str],
    browser: Any,  # noqa: F811 (fixture)
) -> None:
    live, deployment, secret = staff_site
    sign_in(browser, live.base, secret)
    with app_state(live.app).database.session() as db:
        token = db.scalars(select(DistributionLink.token)).first()
    pages = [
        "/staff/",
        f"/admin/programmes/{deployment.programme_id}",
        "/admin/users",
        "/admin/audit",
        f"/admin/links/{token}",
        "/staff/assist/service-feedback?lang=ar",
        "/staff/surveys/service-feedback/paper",
        "/reports/",
    ]
    too_wide = []
    findings = []
    for page in pages:
        browser.get(live.base + page)
        if overflow(browser) > 0:
            too_wide.append(f"{page}: {overflow(browser)} px too wide")
        findings += [f"{page}: {v}" for v in axe_violations(browser)]
    assert too_wide == []
    assert findings == []


def test_the_create_link_button_can_be_reached(
    staff_site: tuple[LiveSite, Any, str],
    browser: Any,  # noqa: F811 (fixture)
) -> None:
    live, deployment, secret = staff_site
    sign_in(browser, live.base, secret)
    browser.get(f"{live.base}/admin/programmes/{deployment.programme_id}")
    button = browser.find_element(
        "xpath", "//button[@type='submit' and normalize-space()='Create link']"
    )
    browser.execute_script("arguments[0].scrollIntoView()", button)
    box = browser.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return [r.left, r.right];", button
    )
    assert box[0] >= 0 and box[1] <= WIDTH
    # Wide tables scroll inside their own box, reachable from the keyboard.
    regions = browser.find_elements("css selector", ".table-scroll")
    assert regions and all(r.get_attribute("tabindex") == "0" for r in regions)


def start_interview(driver: Any, base: str, lang: str) -> None:
    driver.get(f"{base}/staff/assist/service-feedback?lang={lang}")
    driver.find_element("css selector", f'#site option[value="{LONG_SITE}"]').click()
    click_and_wait(driver, 'main form button[type="submit"]')


def section_shown(driver: Any) -> str:
    return str(driver.find_element("css selector", 'input[name="page"]').get_attribute("value"))


def walk_sections(driver: Any, look: Callable[[str], None]) -> None:
    """From the first section to the review: the consent question left out once (an error
    page), two kinds of help chosen, a line typed on the last section."""
    look("section 1")
    click_and_wait(driver, 'button[value="next"]')
    look("section 1 with an error")
    choose(driver, "consent", "yes")
    click_and_wait(driver, 'button[value="next"]')
    while section_shown(driver) != "review":
        look(f"section {section_shown(driver)}")
        if driver.find_elements("css selector", 'input[name="services"]'):
            choose(driver, "services", "legal")
            choose(driver, "services", "medical")
        if driver.find_elements("css selector", 'textarea[name="what_should_change"]'):
            typed = driver.find_element("css selector", 'textarea[name="what_should_change"]')
            typed.send_keys(SENTINEL)
        click_and_wait(driver, 'button[value="next"]')
    look("review")


@pytest.mark.parametrize("browser", [True, False], indirect=True, ids=["js-on", "js-off"])
def test_assisted_entry_and_paper_pages_have_no_accessibility_violations(
    staff_site: tuple[LiveSite, Any, str],
    browser: Any,  # noqa: F811 (fixture)
    drivers: dict[bool, Any],  # noqa: F811 (fixture)
) -> None:
    """Every axe-core rule, in English and Arabic, with JavaScript on and off: the setup, every
    section of an interview, a section with an error, the review and the page after saving."""
    live, _deployment, secret = staff_site
    sign_in(browser, live.base, secret)
    findings: list[str] = []

    def scan(where: str) -> None:
        findings.extend(f"{where}: {v}" for v in axe_violations(browser, drivers[True]))

    def scan_in(lang: str, where: str) -> None:
        scan(f"{lang} {where}")

    for lang in ("en", "ar"):
        for page in (
            f"/staff/assist/service-feedback?lang={lang}",
            f"/staff/surveys/service-feedback/paper?lang={lang}",
        ):
            browser.get(live.base + page)
            scan(page)
        start_interview(browser, live.base, lang)
        walk_sections(browser, partial(scan_in, lang))
        click_and_wait(browser, 'button[value="save"]')
        assert "/staff/assist/service-feedback/next?" in browser.current_url
        scan(f"{lang} saved")
    assert findings == []


def test_assisted_entry_section_by_section_on_a_phone(
    staff_site: tuple[LiveSite, Any, str],
    browser: Any,  # noqa: F811 (fixture)
) -> None:
    """At 360x640: each section fits the screen's width and is a few screens tall, not one
    page of every question; going back through the list of sections keeps the answers; once
    saved, nothing in history, Back, the cookies or the storage shows them."""
    live, _deployment, secret = staff_site
    sign_in(browser, live.base, secret)
    start_interview(browser, live.base, "ar")
    heights: dict[str, int] = {}

    def measure(where: str) -> None:
        assert overflow(browser) <= 0, f"{where}: {overflow(browser)} px too wide"
        heights[where] = int(browser.execute_script("return document.documentElement.scrollHeight"))

    walk_sections(browser, measure)
    print("assisted entry page heights at 360 px:", heights)
    # The one-page form was 10,000-12,500 px tall; a section of five six-option questions is
    # the tallest here, at about five screens.
    tallest = max(h for where, h in heights.items() if where.startswith("section"))
    assert tallest <= 6 * 640, heights
    # Back to the section of the kinds of help, from the review: the choices are still ticked.
    click_and_wait(browser, 'button[value="section-2"]')
    assert browser.find_element("css selector", 'input[value="legal"]').is_selected()
    # The list of sections says what is done and lets the caseworker go straight to the review.
    listing = browser.find_element("id", "sections").text
    assert "تم" in listing or "Done" in listing
    click_and_wait(browser, 'button[value="review"]')
    assert SENTINEL in browser.page_source
    click_and_wait(browser, 'button[value="save"]')
    assert "/next?" in browser.current_url and SENTINEL not in browser.page_source
    # Back from the page after saving, to the review and every section before it.
    while _can_go_back(browser):
        browser.back()  # returns once the page is loaded
        assert SENTINEL not in browser.page_source
        assert not browser.find_elements("css selector", "input:checked[name=services]")
    serializer = live.app.session_interface.get_signing_serializer(live.app)  # type: ignore[attr-defined]
    for cookie in browser.execute_cdp_cmd("Storage.getCookies", {})["cookies"]:
        content = json.dumps(serializer.loads(cookie["value"])) if cookie["name"] == "s" else ""
        assert SENTINEL not in content + cookie["value"] and "services" not in content
    # A new tab on the interview's address: the setup, nothing more.
    browser.switch_to.new_window("tab")
    browser.get(f"{live.base}/staff/assist/service-feedback/entry")
    assert SENTINEL not in browser.page_source and not browser.find_elements(
        "css selector", 'input[name="draft"]'
    )
    assert browser.execute_script("return localStorage.length + sessionStorage.length") == 0
    browser.close()
    browser.switch_to.window(browser.window_handles[0])
