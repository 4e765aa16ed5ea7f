"""Report pages in a real browser: axe-core finds nothing on the summary, the breakdowns and
the printable report (in English and Arabic), the skip link comes first, and the printable
report prints on at most 12 A4 pages.

Uses the browser, server and accessibility helpers of test_browser.py (and is skipped with it
when Chromium, its driver or axe-core are missing).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.print_page_options import PrintOptions

from survey_app import create_app, migrate
from survey_app.models import Role, SurveyAssignment
from survey_app.operations.sample_data import store_generated
from survey_app.reports import brief
from survey_app.reports.redaction import Redactor
from survey_app.reports.refresh import refresh
from survey_app.reports.snapshot import latest
from survey_app.staff.audit import Actor
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, ROOT, deploy, make_settings
from tests.support.staff import make_account
from tests.test_browser import (
    LiveSite,
    axe_violations,
    browser,  # noqa: F401 (fixture)
    click_and_wait,
    drivers,  # noqa: F401 (fixture)
)
from tests.test_staff_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cheap_password_hashing")]

SURVEYS = ("service-feedback", "reintegration-checkin")
MOST_PRINTED_PAGES = 12


@pytest.fixture
def report_site(tmp_path: Path, database_url: str) -> Iterator[tuple[LiveSite, str]]:
    """Both example surveys with 300 generated responses each, refreshed and published."""
    settings = make_settings(tmp_path, database_url, surveys_dir=str(ROOT / "surveys"))
    app = create_app(settings)
    state = app_state(app)
    migrate.upgrade(state.database)
    deployment = deploy(app)
    for survey_id in SURVEYS:
        store_generated(state.database, state.surveys[survey_id], 300)
        # With a report plan: two breakdowns shown with every question on the report page.
        refresh(
            state.database,
            state.surveys[survey_id],
            5,
            PASSPHRASE,
            actor="analyst",
            breakdowns=("site", "round"),
        )
    admin = make_account(
        app, "administrator", role=Role.ADMIN, programme_id=deployment.programme_id, totp=True
    )
    assert admin.totp_secret
    live = LiveSite(app)
    yield live, admin.totp_secret
    live.close()
    state.database.dispose()


def printed_pages(driver: Any) -> int:
    options = PrintOptions()
    options.page_width, options.page_height = 21.0, 29.7  # A4, in centimetres
    pdf = base64.b64decode(driver.print_page(options))
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf)]
    counts += [int(n) for n in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", pdf)]
    assert counts, "no page tree found in the printed PDF"
    return max(counts)


def test_report_pages_have_no_accessibility_violations(
    report_site: tuple[LiveSite, str],
    browser: Any,  # noqa: F811 (fixture)
) -> None:
    live, secret = report_site
    sign_in(browser, live.base, secret)
    findings = []
    for lang in ("en", "ar"):
        browser.get(f"{live.base}/reports/service-feedback")
        browser.find_element(By.CSS_SELECTOR, f'#staff-lang option[value="{lang}"]').click()
        click_and_wait(browser, ".staff-language button")
        assert browser.execute_script("return document.documentElement.lang") == lang
        for survey_id in SURVEYS:
            for page in ("", "/print", "/breakdowns", "/breakdowns?by=round"):
                browser.get(f"{live.base}/reports/{survey_id}{page}")
                findings += [f"[{lang}] {survey_id}{page}: {v}" for v in axe_violations(browser)]
    assert findings == []


def test_the_skip_link_is_the_first_stop_and_leads_to_the_content(
    report_site: tuple[LiveSite, str],
    browser: Any,  # noqa: F811 (fixture)
) -> None:
    live, secret = report_site
    sign_in(browser, live.base, secret)
    browser.get(f"{live.base}/reports/service-feedback")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    first = browser.switch_to.active_element
    assert first.get_attribute("class") == "skip-link" and first.is_displayed()
    first.send_keys(Keys.ENTER)
    assert browser.current_url.endswith("#main")


@pytest.mark.parametrize("survey_id", SURVEYS)
def test_the_printable_report_fits_on_twelve_pages(
    report_site: tuple[LiveSite, str],
    browser: Any,  # noqa: F811 (fixture)
    survey_id: str,
) -> None:
    live, secret = report_site
    sign_in(browser, live.base, secret)
    browser.get(f"{live.base}/reports/{survey_id}/print")
    assert printed_pages(browser) <= MOST_PRINTED_PAGES


@pytest.fixture
def analyst_site(tmp_path: Path, database_url: str) -> Iterator[tuple[LiveSite, str, str]]:
    """service-feedback with 300 generated responses, published; an analyst to sign in as."""
    settings = make_settings(tmp_path, database_url, surveys_dir=str(ROOT / "surveys"))
    app = create_app(settings)
    state = app_state(app)
    migrate.upgrade(state.database)
    deployment = deploy(app)
    store_generated(state.database, state.surveys[SURVEYS[0]], 300)
    refresh(state.database, state.surveys[SURVEYS[0]], 5, PASSPHRASE, actor="analyst")
    analyst = make_account(
        app, "administrator", role=Role.ANALYST, programme_id=deployment.programme_id, totp=True
    )
    assert analyst.totp_secret
    live = LiveSite(app)
    yield live, analyst.totp_secret, deployment.links[SURVEYS[0]]
    live.close()
    state.database.dispose()


def test_an_analyst_publishes_what_you_told_us_and_a_phone_reads_it(
    analyst_site: tuple[LiveSite, str, str],
    browser: Any,  # noqa: F811 (fixture)
) -> None:
    live, secret, token = analyst_site
    sign_in(browser, live.base, secret)
    browser.get(f"{live.base}/reports/")
    browser.find_element(By.LINK_TEXT, "What you told us").click()
    findings = [f"edit: {v}" for v in axe_violations(browser)]
    for slot in (1, 2, 3):
        options = browser.find_elements(By.CSS_SELECTOR, f"#result-{slot} option")
        options[slot * 3].click()  # three different results
        browser.find_element(By.ID, f"action-{slot}-en").send_keys(f"Action number {slot}.")
    browser.find_element(By.ID, "action-1-ar").send_keys("نفتح المكتب يوم السبت.")
    browser.find_element(By.ID, "publish").click()
    click_and_wait(browser, 'form[action$="/results-page"] button[type="submit"]')
    assert "published with 3 results" in browser.page_source, browser.page_source
    findings += [f"edit, saved: {v}" for v in axe_violations(browser)]

    for lang in ("en", "ar", "fr"):
        browser.get(f"{live.base}/s/{token}/results?lang={lang}")
        assert len(browser.find_elements(By.CSS_SELECTOR, "section.result")) == 3
        findings += [f"public [{lang}]: {v}" for v in axe_violations(browser)]
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= browser.execute_script("return window.innerWidth"), "fits a phone"
    browser.get(f"{live.base}/s/{token}/results?lang=ar")
    assert "نفتح المكتب يوم السبت." in browser.page_source
    assert findings == []


MOST_BRIEF_PAGES = 2


def test_the_policy_brief_prints_on_two_pages_with_no_accessibility_violations(
    analyst_site: tuple[LiveSite, str, str],
    browser: Any,  # noqa: F811 (fixture)
) -> None:
    """The longest brief allowed: five findings and four quotes at their longest."""
    live, secret, _token = analyst_site
    app = live.app
    state = app_state(app)
    survey_id = SURVEYS[0]
    with state.database.session() as db:
        document = latest(db, survey_id)
        assert document is not None
        programme_id = db.get(SurveyAssignment, survey_id).programme_id  # type: ignore[union-attr]
        words = "The share who felt safe fell in the north, where the office moved. "
        findings = [(f"{n}. " + words * 20)[: brief.MAX_FINDING_LENGTH] for n in range(1, 6)]
        who = Actor("analyst", None)
        brief.save(
            db, who, programme_id, survey_id, brief.period_of(document), findings, publish=True
        )
        said = "They listened to me and helped me find a safe place to stay with my children. "
        tokens = [
            brief.quote_token(
                str(app.config["SECRET_KEY"]),
                survey_id,
                "what_should_change",
                (f"{n} " + said * 10)[: brief.MAX_QUOTE_LENGTH],
            )
            for n in range(brief.MAX_QUOTES)
        ]
        kept = brief.approve(
            db,
            who,
            programme_id,
            survey_id,
            tokens,
            secret_key=str(app.config["SECRET_KEY"]),
            redactor=Redactor((), None),
        )
        assert kept == brief.MAX_QUOTES
    sign_in(browser, live.base, secret)
    found = []
    for lang in ("en", "ar"):
        browser.get(f"{live.base}/reports/{survey_id}")
        browser.find_element(By.CSS_SELECTOR, f'#staff-lang option[value="{lang}"]').click()
        click_and_wait(browser, ".staff-language button")
        browser.get(f"{live.base}/reports/{survey_id}/brief")
        assert len(browser.find_elements(By.CSS_SELECTOR, ".brief-findings li")) == 5
        assert len(browser.find_elements(By.CSS_SELECTOR, ".brief-quote")) == brief.MAX_QUOTES
        found += [f"[{lang}] brief: {v}" for v in axe_violations(browser)]
        pages = printed_pages(browser)
        assert pages <= MOST_BRIEF_PAGES, f"[{lang}] {pages} pages"
        browser.get(f"{live.base}/reports/{survey_id}/brief/edit")
        found += [f"[{lang}] brief/edit: {v}" for v in axe_violations(browser)]
    # The free-text page, where answers are ticked to approve them as quotes.
    browser.get(f"{live.base}/reports/{survey_id}/free-text")
    browser.find_element(By.ID, "passphrase").send_keys(PASSPHRASE)
    click_and_wait(browser, 'main form button[type="submit"]')
    assert browser.find_elements(By.CSS_SELECTOR, 'input[name="quote"]')
    found += [f"free-text: {v}" for v in axe_violations(browser)]
    assert found == []
