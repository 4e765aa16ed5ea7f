"""Staff pages in a real browser at phone size: nothing pushes the page wider than the screen.

Uses the browser, server and accessibility helpers of test_browser.py (and is skipped with it
when Chromium, its driver or axe-core are missing).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from survey_app import audit, create_app, migrate
from survey_app.models import DistributionLink, Role
from survey_app.state import app_state
from tests.support.apps import ROOT, deploy, make_settings
from tests.support.staff import PASSWORD, make_account
from tests.test_browser import (
    EXIT_URL,
    LiveSite,
    axe_violations,
    browser,  # noqa: F401 (fixture)
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
    click_and_wait(driver, 'button[type="submit"]')
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
        "/staff/assist/service-feedback/entry?site=" + LONG_SITE + "&lang=ar",
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


@pytest.mark.parametrize("browser", [True, False], indirect=True, ids=["js-on", "js-off"])
def test_assisted_entry_and_paper_pages_have_no_accessibility_violations(
    staff_site: tuple[LiveSite, Any, str],
    browser: Any,  # noqa: F811 (fixture)
    drivers: dict[bool, Any],  # noqa: F811 (fixture)
) -> None:
    """Every axe-core rule, in English and Arabic, with JavaScript on and off."""
    live, _deployment, secret = staff_site
    sign_in(browser, live.base, secret)
    findings = []
    for lang in ("en", "ar"):
        for page in (
            f"/staff/assist/service-feedback?lang={lang}",
            f"/staff/assist/service-feedback/entry?site=North&lang={lang}",
            f"/staff/surveys/service-feedback/paper?lang={lang}",
        ):
            browser.get(live.base + page)
            findings += [f"{page}: {v}" for v in axe_violations(browser, drivers[True])]
    assert findings == []
