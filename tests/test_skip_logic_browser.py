"""Skip logic in the browser is the server's: the same conditions give the same result.

Chromium evaluates every expression of tests/support/expression_cases.py with
static/offline/evaluate.js (the one evaluator of skip.js and the offline page), given the tree
the server hands out, and must give the value the server's evaluator gives, written the same
way. Then a served page with numeric, date, `selected()`, `count-selected()` and
calculation-like conditions is filled in several ways: the questions the browser shows are
exactly those whose answers the server keeps.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from survey_app import create_app, migrate
from survey_app.definitions.device_form import tree
from survey_app.definitions.expressions import _to_string, parse
from survey_app.state import app_state
from tests.support.apps import deploy, make_settings
from tests.support.expression_cases import CASES, TODAY
from tests.test_browser import LiveSite, click_and_wait, make_driver, read_back

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[webdriver.Chrome]:
    driver = make_driver(javascript=True)
    yield driver
    driver.quit()


def kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "string" if isinstance(value, str) else "number"


def test_the_browser_evaluates_every_case_as_the_server_does(
    live: tuple[LiveSite, Any], chromium: webdriver.Chrome, monkeypatch: pytest.MonkeyPatch
) -> None:
    from survey_app.definitions import expressions

    monkeypatch.setattr(expressions, "today", lambda: TODAY)
    site, deployment = live
    chromium.get(f"{site.base}/s/{deployment.links['conditions']}")
    cases = []
    expected = []
    for text, answers, _ in CASES:
        expression = parse(text)
        cases.append([tree(expression.root), answers])
        value = expression.evaluate(answers)
        expected.append([kind_of(value), _to_string(value)])
    found = chromium.execute_async_script(
        """
        const [cases, today, done] = arguments;
        import("/static/offline/evaluate.js").then((skip) => {
          skip.clock.today = () => today;
          done(cases.map(([tree, answers]) => {
            const value = skip.evaluate(tree, answers);
            return [typeof value, skip.toText(value)];
          }));
        }, (error) => done(String(error)));
        """,
        cases,
        TODAY,
    )
    differ = [
        f"{text}: browser {browser}, server {server}"
        for (text, _, _), browser, server in zip(CASES, found, expected, strict=True)
        if browser != server
    ]
    assert differ == []


SURVEY = """
format = 1
[survey]
id = "conditions"
title = "Conditions"
default_language = "en"

[[pages]]
id = "about"
[[pages.questions]]
id = "age"
type = "integer"
min = 0
max = 120
label = "Age"
[[pages.questions]]
id = "seen"
type = "date"
label = "Last visit"
[[pages.questions]]
id = "services"
type = "multiple"
label = "Services"
choices = [
  { value = "legal", label = "Legal" },
  { value = "medical", label = "Medical" },
  { value = "cash", label = "Cash" },
]
[[pages.questions]]
id = "code"
type = "text"
label = "Code"
[[pages.questions]]
id = "adult"
type = "yesno"
label = "Adult?"
relevant = "${age} >= 18"
[[pages.questions]]
id = "recent"
type = "yesno"
label = "Recent?"
relevant = "today() - ${seen} <= 30"
[[pages.questions]]
id = "several"
type = "yesno"
label = "Several?"
relevant = "count-selected(${services}) >= 2"
[[pages.questions]]
id = "legal_ok"
type = "yesno"
label = "Legal?"
relevant = "selected(${services}, 'legal') and not(selected(${services}, 'cash'))"
[[pages.questions]]
id = "band"
type = "yesno"
label = "Band?"
relevant = "string(if(${age} >= 60, 'older', 'younger')) = 'older' or regex(${code}, '^[A-Z]{2}[0-9]+$')"
"""
DEPENDENTS = ("adult", "recent", "several", "legal_ok", "band")


def days_ago(days: int) -> str:
    return (datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=days)).isoformat()


# What is typed or ticked: age, last visit, services, code.
FILLS = [
    ("17", days_ago(10), ["legal"], "ab12"),
    ("65", days_ago(40), ["medical", "cash"], ""),
    ("30", "", [], "XY123"),
    ("١٩", days_ago(30), ["legal", "medical"], " ZZ9 "),
    ("45", days_ago(-3), ["legal", "cash"], "Q1"),
]


@pytest.fixture
def live(tmp_path: Path, database_url: str) -> Iterator[tuple[LiveSite, Any]]:
    surveys = tmp_path / "surveys"
    surveys.mkdir()
    (surveys / "conditions.toml").write_text(SURVEY, encoding="utf-8")
    settings = make_settings(
        tmp_path,
        database_url,
        surveys_dir=str(surveys),
        respondent={"submissions_per_client_per_minute": 1000, "submissions_per_minute": 10_000},
    )
    app = create_app(settings)
    migrate.upgrade(app_state(app).database)
    deployment = deploy(app)
    site = LiveSite(app)
    yield site, deployment
    site.close()
    app_state(app).database.dispose()


def test_what_the_browser_shows_is_what_the_server_keeps(
    live: tuple[LiveSite, Any], chromium: webdriver.Chrome
) -> None:
    site, deployment = live
    shown_each: list[set[str]] = []
    for age, seen, services, code in FILLS:
        chromium.delete_all_cookies()
        chromium.get(f"{site.base}/s/{deployment.links['conditions']}")
        click_and_wait(chromium, 'button[name="lang"]')
        for name, value in (("age", age), ("seen", seen), ("code", code)):
            chromium.execute_script(
                "var f = document.getElementById(arguments[0]); f.value = arguments[1];"
                "f.dispatchEvent(new Event('input', {bubbles: true}));",
                name,
                value,
            )
        for service in services:
            chromium.find_element(
                By.CSS_SELECTOR, f'input[name="services"][value="{service}"]'
            ).click()
        shown = {q for q in DEPENDENTS if chromium.find_element(By.ID, f"q-{q}").is_displayed()}
        shown_each.append(shown)
        # Answer every dependent, shown or not: the server must keep exactly the shown ones.
        chromium.execute_script(
            "arguments[0].forEach(function (q) {"
            "document.querySelector('input[name=\"' + q + '\"][value=\"yes\"]').checked = true;"
            "});",
            list(DEPENDENTS),
        )
        click_and_wait(chromium, 'button[value="next"]')
        assert chromium.find_elements(By.CSS_SELECTOR, "input[name=age]") == [], json.dumps(
            [age, seen, services, code]
        )
    responses = read_back(site, deployment, "conditions")
    kept = [{q for q in DEPENDENTS if q in r.answers} for r in responses]
    assert sorted(map(sorted, kept)) == sorted(map(sorted, shown_each))
    # The fills reach every condition both ways, so the comparison means something.
    assert set().union(*shown_each) == set(DEPENDENTS)
    assert all(any(q not in shown for shown in shown_each) for q in DEPENDENTS)
