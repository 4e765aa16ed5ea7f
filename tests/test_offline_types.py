"""The offline entry page draws every question as its type's registry entry says, so a type
registered on the server (here the time of day of tests/support/time_type.py) is drawn, read
and sealed on the device like the built-in ones, without the page naming it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask

from survey_app import create_app, migrate
from survey_app.definitions.types import kind_of, names, register, unregister
from survey_app.intake.responses import OpenedResponse
from survey_app.models import Role
from survey_app.state import app_state
from tests.support.apps import FIXTURES, ROOT, deploy, make_settings, read_back
from tests.support.staff import PASSWORD, make_account, open_session
from tests.support.time_type import TimeOfDay
from tests.test_browser import EXIT_URL, LiveSite, make_driver

if TYPE_CHECKING:
    from selenium import webdriver

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

PAGE = "/staff/assist/offline/"
FORM_JS = ROOT / "survey_app" / "static" / "offline" / "form.js"


@pytest.fixture
def visits(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    register(TimeOfDay)
    settings = make_settings(
        tmp_path,
        database_url,
        surveys_dir=str(FIXTURES / "question_types"),
        respondent={"quick_exit_url": EXIT_URL},
    )
    app = create_app(settings)
    migrate.upgrade(app_state(app).database)
    yield app
    app_state(app).database.dispose()
    unregister(TimeOfDay.name)


def test_the_cached_survey_says_how_each_question_is_drawn_and_read(visits: Flask) -> None:
    deployment = deploy(visits)
    account = make_account(
        visits, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id
    )
    client = visits.test_client()
    open_session(visits, client, account.id)
    bundle = client.get(f"{PAGE}bundle.json").get_json()
    (entry,) = [s for p in bundle["programmes"] for s in p["surveys"] if s["id"] == "visits"]
    questions = {q["id"]: q for page in entry["form"]["pages"] for q in page["questions"]}
    assert questions["arrived"]["widget"] == {
        "layout": "field",
        "many": False,
        "input": "time",
        "reading": None,
        "options": [],
    }
    assert questions["welcome"]["widget"]["reading"] == "k"
    survey = app_state(visits).surveys["visits"]
    for question in survey.questions():
        assert questions[question.id]["widget"] == kind_of(question.type).offline_widget(question)


def test_the_offline_form_names_no_type_but_consent() -> None:
    """Consent alone is read by name (declining ends the interview); every other question is
    drawn and read from its widget."""
    form = FORM_JS.read_text(encoding="utf-8")
    compared = re.findall(r"\b(?:question|q)\.type\s*===?\s*\"(\w+)\"", form)
    assert set(compared) == {"consent"}
    assert {"single", "multiple", "rating", "yesno", "integer", "date"} <= set(names())


@pytest.mark.browser
def test_a_registered_type_is_drawn_read_and_sealed_offline(visits: Flask, tmp_path: Path) -> None:
    deployment = deploy(visits)
    make_account(visits, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    live = LiveSite(visits)
    driver = make_driver(javascript=True, profile=tmp_path / "profile")
    try:
        driver.get(f"{live.base}/auth/sign-in?next={PAGE}")
        driver.find_element(By.NAME, "username").send_keys("casey")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        wait(driver, lambda d: d.current_url.endswith(PAGE))
        wait(driver, lambda d: "Your visit" in d.find_element(By.ID, "choose-survey").text)
        driver.find_element(By.CSS_SELECTOR, "#choose button[type=submit]").click()
        wait(driver, lambda d: d.find_element(By.ID, "entry").is_displayed())

        arrived = driver.find_element(By.CSS_SELECTOR, 'input[name="arrived"]')
        assert arrived.get_attribute("type") == "time"
        driver.find_element(By.CSS_SELECTOR, 'input[name="country"][value="ke"]').click()
        # A time picker's keys depend on the locale; the value is what it would hold.
        driver.execute_script("arguments[0].value = '14:30';", arrived)
        driver.find_element(By.CSS_SELECTOR, 'input[name="city"][value="mombasa"]').click()
        driver.find_element(By.CSS_SELECTOR, 'input[name="welcome"][value="4"]').click()
        save(driver)
        wait(driver, lambda d: "Sealed and saved" in d.find_element(By.ID, "outcome").text)
        wait(
            driver,
            lambda d: "0 sealed responses" in d.find_element(By.ID, "status-queue").text,
            timeout=40,
        )
    finally:
        driver.quit()
        live.close()
    (stored,) = read_back(visits, deployment.programme_id, "visits")
    assert isinstance(stored, OpenedResponse)
    assert stored.answers == {"country": "ke", "arrived": "14:30", "city": "mombasa", "welcome": 4}


def save(driver: webdriver.Chrome) -> None:
    driver.find_element(By.ID, "save").click()


def wait(driver: webdriver.Chrome, condition: Any, timeout: float = 20) -> Any:
    return WebDriverWait(driver, timeout).until(condition)
