"""Repeated pages: a survey file's `repeat_count` and `repeat_over`, as respondents answer them
and as the sealed response stores them (one answer per repetition)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from survey_app import create_app, migrate
from survey_app.config import Settings
from survey_app.definitions import load_survey_file, load_survey_text
from survey_app.definitions.xlsform import convert_xlsform
from survey_app.intake.responses import ResponseMeta, store_response
from survey_app.models import Role
from survey_app.state import app_state
from tests.support.apps import FIXTURES, PASSPHRASE, deploy, make_settings, read_back
from tests.support.assisted import Interview
from tests.support.cli import run as run_cli_with
from tests.support.conformance import differences
from tests.support.staff import PASSWORD, make_account, open_session
from tests.support.web import Respondent
from tests.test_browser import LiveSite, click_and_wait, make_driver
from tests.test_browser import read_back as read_back_live
from tests.test_surveys_cli import run as run_cli
from tests.test_xlsform import make_form

REPEATS = FIXTURES / "repeats"


def run_report(settings: Settings, *args: str, input: str | None = None) -> Result:
    return run_cli_with(settings, "report", *args, input=input)


def serve(tmp_path: Path, database_url: str, *names: str) -> Flask:
    folder = tmp_path / "surveys"
    folder.mkdir()
    for name in names:
        shutil.copy(REPEATS / name, folder)
    return create_app(make_settings(tmp_path, database_url, surveys_dir=str(folder)))


def test_each_repetition_is_a_page_with_its_own_answers_and_skip_logic(
    tmp_path: Path, database_url: str
) -> None:
    app = serve(tmp_path, database_url, "services-rated.toml")
    try:
        deployment = deploy(app)
        tab = Respondent(app.test_client(), deployment.links["services-rated"])
        tab.start()
        tab.submit(1, {"used": "2"})
        # Two services used: "1 of 2", as the answer says, not of the 3 the survey allows.
        assert "A service you used" in tab.html and '<p class="repetition">1 of 2</p>' in tab.html
        assert 'name="score__1"' in tab.html and 'name="why__1"' in tab.html
        # A poor rating asks why, in this repetition: the server insists.
        refused = tab.submit(2, {"score__1": "poor"})
        assert refused.status_code in {200, 422} and tab.page == 2
        assert 'href="#q-why__1"' in tab.html
        tab.submit(2, {"score__1": "poor", "why__1": "slow"})
        assert '<p class="repetition">2 of 2</p>' in tab.html and 'name="score__2"' in tab.html
        # A good rating in repetition 2: its "why" does not apply, whatever repetition 1 said.
        tab.submit(3, {"score__2": "good", "why__2": "not asked"})
        # Two services used: the third repetition is not asked; next, one page per option.
        assert "How many days did you wait for legal advice?" in tab.html, tab.html
        assert "legal advice · 1 of 2" in tab.html
        tab.submit(tab.page or 0, {"wait__1": "3"})
        assert "How many days did you wait for health care?" in tab.html
        assert "health care · 2 of 2" in tab.html
        tab.submit(tab.page or 0, {"wait__2": "10"})
        responses = read_back(app, deployment.programme_id, "services-rated")
    finally:
        app_state(app).database.dispose()
    assert len(responses) == 1
    answers = responses[0].answers
    assert answers == {
        "used": 2,
        "score__1": "poor",
        "why__1": "slow",
        "score__2": "good",
        "wait__1": 3,
        "wait__2": 10,
    }


def test_check_refuses_unbounded_or_unclear_repeats(tmp_path: Path) -> None:
    shutil.copy(REPEATS / "bad-repeats.toml", tmp_path)
    code, output = run_cli("surveys", "check", surveys=tmp_path)
    assert code == 1
    problems = [line for line in output.splitlines() if "bad-repeats.toml:" in line]
    expected = [
        "page 'too_many': repeat_count: ${used} allows up to 30 but repeat_max is 5",
        "page 'unbounded': repeat_count: ${free} has no max: give that question a max",
        "page 'no_list': repeat_over: no choice list named 'services' (lists: service)",
        "page 'both': a repeated page needs either repeat_count or repeat_over (not both)",
        "page 'agree': a repeated page cannot hold the consent question",
        "question 'consent': the consent question must be on the first page",
        "page 'fine': question 'dup': disaggregate does not apply on a repeated page",
        "question 'dup': duplicate question id 'dup' (also a question of the repeated page 'fine')",
    ]
    for message in expected:
        assert any(message in line for line in problems), (message, output)
    assert len(problems) == len(expected), output


def test_outside_its_page_a_repeated_answer_is_named_by_its_repetition(tmp_path: Path) -> None:
    text = (REPEATS / "services-rated.toml").read_text(encoding="utf-8")
    page = (
        '\n[[pages]]\nid = "last"\n\n[[pages.questions]]\nid = "follow"\ntype = "text"\n'
        'relevant = "REFERENCE = \'poor\'"\nlabel = { en = "Tell us more", fr = "Dites-en plus" }\n'
    )
    (tmp_path / "services-rated.toml").write_text(
        text + page.replace("REFERENCE", "${score__1}"), encoding="utf-8"
    )
    code, output = run_cli("surveys", "check", "--strict", surveys=tmp_path)
    assert code == 0, output
    assert "ok  services-rated version" in output
    # ${score} alone: which repetition is meant is unclear, so it is refused.
    (tmp_path / "services-rated.toml").write_text(
        text + page.replace("REFERENCE", "${score}"), encoding="utf-8"
    )
    code, output = run_cli("surveys", "check", surveys=tmp_path)
    assert code == 1
    assert (
        "question 'follow': relevant: unknown question ${score} at position 0; ${score} is "
        "asked in each repetition of page 'rate': name one, as ${score__1}"
    ) in output


def test_an_open_ended_xlsform_repeat_is_asked_a_counted_number_of_times_with_a_note(
    tmp_path: Path,
) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label", "relevant"],
            ["integer", "age", "How old are you?", ""],
            ["begin repeat", "service", "A service you used", ""],
            ["select_one score", "rating", "How was it?", ""],
            ["text", "why", "What went wrong?", "${rating} = 'poor'"],
            ["end repeat", "", "", ""],
        ],
        choices=[
            ["list_name", "name", "label"],
            ["score", "good", "Good"],
            ["score", "poor", "Poor"],
        ],
    )
    out = tmp_path / "out"
    code, output = run_cli("surveys", "import", str(form), "--id", "services", surveys=out)
    assert code == 0, output
    assert (
        "note: survey row 3: warning: repeat 'service' has no repeat_count: in ODK the "
        "respondent adds repetitions one at a time, without a limit; here a question "
        "'service_count'"
    ) in output
    assert "is asked that many times, at most 10" in output
    code, output = run_cli("surveys", "check", surveys=out)
    assert code == 0, output
    survey = load_survey_file(out / "services.toml")
    assert [page.id for page in survey.pages][:3] == ["page_1", "service_count", "service__1"]
    assert len(survey.pages) == 2 + 10
    count = survey.question("service_count")
    assert (count.type, count.min, count.max) == ("integer", 0, 10)
    why = survey.question("why__7")
    assert why.relevant is not None and why.relevant.source == "${rating__7} = 'poor'"
    asked_when = survey.page_of("why__7").relevant
    assert asked_when is not None and asked_when.source == "number(${service_count}) >= 7"


def test_an_xlsform_repeat_counted_by_an_answer_bounds_that_answer_with_a_note(
    tmp_path: Path,
) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label", "repeat_count"],
            ["integer", "used", "How many services did you use?", ""],
            ["begin repeat", "service", "A service you used", "${used}"],
            ["integer", "visits", "How many visits?", ""],
            ["end repeat", "", "", ""],
        ],
    )
    result = convert_xlsform(form, survey_id="counted")
    notes = "\n".join(str(note) for note in result.notes)
    assert (
        "survey row 2: question 'used' sets how many times the repeat on row 3 is asked: "
        "answers above 10 are now refused (max 10, was none)"
    ) in notes
    survey = load_survey_text(result.toml_text, "counted.toml")
    assert survey.question("used").max == 10
    assert [page.id for page in survey.pages] == [
        "page_1",
        *(f"service__{n}" for n in range(1, 11)),
    ]


def test_an_xlsform_loop_is_one_repetition_per_option_labelled_by_it(tmp_path: Path) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label"],
            ["begin loop over service", "each", "Services"],
            ["integer", "wait", "How many days did you wait for %(label)s?"],
            ["end loop", "", ""],
        ],
        choices=[
            ["list_name", "name", "label"],
            ["service", "legal", "legal advice"],
            ["service", "health", "health care"],
        ],
    )
    result = convert_xlsform(form, survey_id="looped")
    survey = load_survey_text(result.toml_text, "looped.toml")
    assert [q.id for q in survey.questions()] == ["wait__1", "wait__2"]
    labels = [survey.text(q.label, "en") for q in survey.questions()]
    assert labels == [
        "How many days did you wait for legal advice?",
        "How many days did you wait for health care?",
    ]


def test_a_repeated_answer_used_outside_its_repeat_is_refused_naming_the_row(
    tmp_path: Path,
) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label", "relevant", "repeat_count"],
            ["begin repeat", "service", "A service you used", "", "2"],
            ["integer", "visits", "How many visits?", "", ""],
            ["end repeat", "", "", "", ""],
            ["text", "more", "Tell us more", "${visits} > 2", ""],
        ],
    )
    code, output = run_cli("surveys", "import", str(form), surveys=tmp_path / "out")
    assert code == 1
    assert (
        "survey row 5, column 'relevant': relevant uses ${visits}, which is inside the repeat "
        "on row 2: each repetition has its own answer, so which one is meant is unclear"
    ) in output


@pytest.mark.usefixtures("cheap_password_hashing")
def test_assisted_entry_and_the_paper_form_draw_each_repetition(
    tmp_path: Path, database_url: str
) -> None:
    app = serve(tmp_path, database_url, "services-rated.toml")
    try:
        migrate.upgrade(app_state(app).database)
        deployment = deploy(app)
        account = make_account(
            app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id
        )
        client = app.test_client()
        open_session(app, client, account.id)
        paper = client.get("/staff/surveys/services-rated/paper")
        assert paper.status_code == 200
        html = paper.get_data(as_text=True)
        assert all(f"Repetition {n}</p>" in html for n in (1, 2, 3))
        assert "How many days did you wait for health care?" in html
        assert "health care · 2 of 2" in html
        preview = client.get("/staff/preview/services-rated", follow_redirects=True)
        assert preview.status_code == 200
        bundle = client.get("/staff/assist/offline/bundle.json")
        assert bundle.status_code == 200 and "wait__2" in bundle.get_data(as_text=True)
        tab = Interview(client, "services-rated")
        tab.start()
        tab.answer(1, {"used": "1"})
        assert "Repetition 1" in tab.html
        tab.answer(2, {"score__1": "poor", "why__1": "late"})
        # Repetitions 2 and 3 do not apply: one service used.
        assert "How many days did you wait for legal advice?" in tab.html
        tab.send({"wait__1": "4"})
        tab.send({"wait__2": "1"})
        assert tab.section == "review", tab.html
        saved = tab.send(action="save")
        assert saved.status_code == 303  # to the page after saving
        responses = read_back(app, deployment.programme_id, "services-rated")
    finally:
        app_state(app).database.dispose()
    assert [r.answers for r in responses] == [
        {"used": 1, "score__1": "poor", "why__1": "late", "wait__1": 4, "wait__2": 1}
    ]


def store(app: Flask, answers: dict[str, object], count: int) -> None:
    """`count` responses with these answers, from a closed round (reports publish only those)."""
    state = app_state(app)
    survey = state.surveys["services-rated"]
    with state.database.session() as session:
        for number in range(count):
            store_response(
                session,
                survey_id=survey.id,
                survey_version=survey.version,
                definition=survey.canonical_json,
                answers=answers,
                meta=ResponseMeta(
                    site="North", channel="self", language="en", day=date(2026, 2, 10 + number % 3)
                ),
                period_granularity="week",
            )


def test_reports_count_each_person_once_with_tables_by_repetition_only_where_asked(
    tmp_path: Path, database_url: str
) -> None:
    app = serve(tmp_path, database_url, "services-rated.toml")
    settings = app_state(app).settings
    try:
        deploy(app)
        # 60 people rated two services, one good and one poor; 60 rated one, good.
        store(app, {"used": 2, "score__1": "good", "score__2": "poor", "why__2": "slow"}, 60)
        store(app, {"used": 1, "score__1": "good", "wait__1": 3, "wait__2": 5}, 60)
        refreshed = run_report(settings, "refresh", "services-rated", input=PASSPHRASE + "\n")
        assert refreshed.exit_code == 0, refreshed.output
        target = tmp_path / "report.json"
        exported = run_report(
            settings, "export", "services-rated", "--format", "json", "-o", str(target)
        )
        assert exported.exit_code == 0, exported.output
        microdata = tmp_path / "microdata.csv"
        written = run_report(
            settings, "microdata", "services-rated", "-o", str(microdata), input=PASSPHRASE + "\n"
        )
        assert written.exit_code == 0, written.output
    finally:
        app_state(app).database.dispose()
    document = json.loads(target.read_text(encoding="utf-8"))
    variables = {variable["id"]: variable for variable in document["variables"]}
    # One table per question, counting people; a table per repetition only for "each"
    # (repeat_table = true), not for "rate".
    assert list(variables) == [
        *("used", "score", "why", "wait", "wait__1", "wait__2"),
        "indicator:any_poor",
    ]
    assert variables["score"]["kind"] == "multiple"
    assert variables["wait"]["label"]["en"] == "How many days did you wait for \u2026?"
    assert variables["wait__2"]["label"]["en"] == "How many days did you wait for health care?"
    frequency = document["views"][0]["tables"]["score"]["frequency"]
    counts = {row["key"]: row["counts"][0] for row in frequency["rows"]}
    # 120 people gave 180 ratings: 120 rated a service good, 60 rated one poor. Published
    # counts are adjusted by noise of standard deviation 2: 10 is five of them.
    assert abs(counts["_answered"] - 120) <= 10 and abs(counts["good"] - 120) <= 10, counts
    assert abs(counts["poor"] - 60) <= 10, counts
    # The indicator reads ${score} as every rating the person gave.
    indicator = document["views"][0]["tables"]["indicator:any_poor"]["frequency"]
    met = {row["key"]: row["counts"][0] for row in indicator["rows"]}
    assert abs(met["_met"] - 60) <= 10 and abs(met["_not_met"] - 60) <= 10, met
    why = document["views"][0]["tables"]["why"]["frequency"]
    status = {row["key"]: row["counts"][0] for row in why["rows"]}
    assert abs(status["_answered"] - 60) <= 10 and abs(status["_not_asked"] - 60) <= 10, status
    rows = list(csv.DictReader(io.StringIO(microdata.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 120
    assert {"score__1", "score__2", "score__3", "why__2", "wait__1", "wait__2"} <= set(rows[0])
    assert sorted({row["score__2"] for row in rows}) == ["(not asked)", "poor"]


@pytest.mark.browser
def test_in_the_browser_a_repetition_shows_what_its_own_answers_ask_for(
    tmp_path: Path, database_url: str
) -> None:
    app = serve(tmp_path, database_url, "services-rated.toml")
    migrate.upgrade(app_state(app).database)
    deployment = deploy(app)
    site = LiveSite(app)
    driver = make_driver(javascript=True)
    try:
        driver.get(f"{site.base}/s/{deployment.links['services-rated']}")
        click_and_wait(driver, 'button[name="lang"]')
        driver.find_element(By.ID, "used").send_keys("2")
        click_and_wait(driver, 'button[value="next"]')
        shown = []
        for number, rating in ((1, "poor"), (2, "good")):
            driver.find_element(
                By.CSS_SELECTOR, f'input[name="score__{number}"][value="{rating}"]'
            ).click()
            shown.append(driver.find_element(By.ID, f"q-why__{number}").is_displayed())
            # Typed whether shown or not: the server keeps it only where it applies.
            driver.execute_script(
                "document.getElementById(arguments[0]).value = 'typed';", f"why__{number}"
            )
            click_and_wait(driver, 'button[value="next"]')
        assert shown == [True, False]
        for _option in ("legal", "health"):  # the waits, left blank
            click_and_wait(driver, 'button[value="next"]')
        responses = read_back_live(site, deployment, "services-rated")
    finally:
        driver.quit()
        site.close()
        app_state(app).database.dispose()
    assert [r.answers for r in responses] == [
        {"used": 2, "score__1": "poor", "why__1": "typed", "score__2": "good"}
    ]


def test_repetitions_answered_before_the_count_was_lowered_are_not_kept(
    tmp_path: Path, database_url: str
) -> None:
    app = serve(tmp_path, database_url, "services-rated.toml")
    try:
        deployment = deploy(app)
        tab = Respondent(app.test_client(), deployment.links["services-rated"])
        tab.start()
        tab.submit(1, {"used": "3"})
        tab.submit(2, {"score__1": "good"})
        tab.submit(3, {"score__2": "poor", "why__2": "rude"})
        assert tab.page == 4 and '<p class="repetition">3 of 3</p>' in tab.html
        for page in (4, 3, 2):
            tab.submit(page, {}, action="back")
        assert tab.page == 1
        tab.submit(1, {"used": "1"})
        tab.submit(2, {"score__1": "good"})
        assert "How many days did you wait for legal advice?" in tab.html
        tab.submit(tab.page or 0, {})
        tab.submit(tab.page or 0, {})
        responses = read_back(app, deployment.programme_id, "services-rated")
    finally:
        app_state(app).database.dispose()
    assert [r.answers for r in responses] == [{"used": 1, "score__1": "good"}]


@pytest.mark.browser
@pytest.mark.usefixtures("cheap_password_hashing")
def test_the_offline_entry_page_marks_each_repetition(tmp_path: Path, database_url: str) -> None:
    app = serve(tmp_path, database_url, "services-rated.toml")
    migrate.upgrade(app_state(app).database)
    deployment = deploy(app)
    make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    site = LiveSite(app)
    driver = make_driver(javascript=True)
    try:
        page = "/staff/assist/offline/"
        driver.get(f"{site.base}/auth/sign-in?next={page}")
        driver.find_element(By.NAME, "username").send_keys("casey")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        wait = WebDriverWait(driver, 20)
        wait.until(lambda d: "Services" in d.find_element(By.ID, "choose-survey").text)
        driver.find_element(By.CSS_SELECTOR, "#choose button[type=submit]").click()
        wait.until(lambda d: d.find_element(By.ID, "entry").is_displayed())
        # Read from the page as drawn: repetitions no answer asks for yet are hidden.
        marks = [
            mark.get_attribute("textContent")
            for mark in driver.find_elements(By.CSS_SELECTOR, "#questions section p.repetition")
        ]
    finally:
        driver.quit()
        site.close()
        app_state(app).database.dispose()
    assert marks == [
        "Repetition 1",
        "Repetition 2",
        "Repetition 3",
        "legal advice · 1 of 2",
        "health care · 2 of 2",
    ]


def test_check_names_a_repeated_question_once_as_the_file_writes_it(tmp_path: Path) -> None:
    text = (REPEATS / "services-rated.toml").read_text(encoding="utf-8")
    text = text.replace(
        'label = { en = "What went wrong?", fr = "Qu\'est-ce qui n\'allait pas ?" }',
        'label = { en = "What was ${score}?" }',
    )
    (tmp_path / "services-rated.toml").write_text(text, encoding="utf-8")
    code, output = run_cli("surveys", "check", surveys=tmp_path)
    assert code == 0, output
    warnings = [line for line in output.splitlines() if line.startswith("warning:")]
    assert [line.split(".toml: ", 1)[1] for line in warnings] == [
        "question 'why': label: missing translation for 'fr' (shown in the default language)",
        "question 'why': label: ${score} is shown as written: only answers given on an earlier "
        "page, and calculations of them, are inserted into text",
    ]


def test_an_xlsform_repeat_counted_by_an_expression_is_bounded_with_a_warning(
    tmp_path: Path,
) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label", "repeat_count", "calculation"],
            ["integer", "adults", "How many adults?", "", ""],
            ["integer", "children", "How many children?", "", ""],
            ["calculate", "people", "", "", "${adults} + ${children}"],
            ["begin repeat", "person", "Someone who lives with you", "${people}", ""],
            ["integer", "age", "Age", "", ""],
            ["end repeat", "", "", "", ""],
        ],
    )
    result = convert_xlsform(form, survey_id="household")
    notes = "\n".join(str(note) for note in result.notes)
    assert (
        "survey row 5: warning: repeat_count `${people}` is asked at most 10 times: when it "
        "comes to more, respondents answer 10 repetitions, not all"
    ) in notes
    assert "survey row 5: repeat_count `${people}` uses the calculation ${people} (row 4)" in notes
    # pyxform's reading agrees, the calculation written out and the bound noted.
    assert differences(form, result) == []
    survey = load_survey_text(result.toml_text, "household.toml")
    pages = [page for page in survey.pages if page.repetition is not None]
    assert len(pages) == 10
    third = pages[2].relevant
    assert third is not None
    assert third.is_true({"adults": 1, "children": 2})
    assert not third.is_true({"adults": 1, "children": 1})
    assert not third.is_true({})


def test_position_in_a_repeat_is_the_repetition_number_as_respondents_answer(
    tmp_path: Path, database_url: str
) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label", "relevant", "constraint", "repeat_count"],
            ["begin repeat", "child", "A child", "", "", "3"],
            ["integer", "age", "How old is this child?", "", ". < 18 or position(..) > 1", ""],
            ["text", "first", "What does your eldest child do?", "position(..) = 1", "", ""],
            ["end repeat", "", "", "", "", ""],
        ],
    )
    code, output = run_cli("surveys", "import", str(form), surveys=tmp_path / "surveys")
    assert code == 0, output
    survey = load_survey_file(tmp_path / "surveys" / "form.toml")
    conditions = [survey.question(f"first__{n}").relevant for n in (1, 2, 3)]
    assert [c.source if c else None for c in conditions] == ["1 = 1", "2 = 1", "3 = 1"]
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(tmp_path / "surveys")))
    try:
        tab = Respondent(app.test_client(), deploy(app).links["form"])
        tab.start()
        assert 'name="first__1"' in tab.html
        refused = tab.submit(1, {"age__1": "30", "first__1": "school"})
        assert refused.status_code in {200, 422} and tab.page == 1  # the constraint, here
        tab.submit(1, {"age__1": "17", "first__1": "school"})
        assert 'name="age__2"' in tab.html and 'name="first__2"' not in tab.html
        tab.submit(2, {"age__2": "30", "first__2": "not asked"})
        assert 'name="age__3"' in tab.html  # an adult is allowed after the first
    finally:
        app_state(app).database.dispose()


def test_position_outside_a_repeat_is_refused_naming_the_row(tmp_path: Path) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label", "relevant"],
            ["integer", "age", "How old are you?", ""],
            ["text", "why", "Why?", "position(..) = 1"],
        ],
    )
    code, output = run_cli("surveys", "import", str(form), surveys=tmp_path / "out")
    assert code == 1
    assert (
        "survey row 3, column 'relevant': relevant `position(..) = 1` uses position(..), the "
        "number of the repetition, which has a meaning only inside a repeat"
    ) in output
    text = (REPEATS / "services-rated.toml").read_text(encoding="utf-8")
    (tmp_path / "services-rated.toml").write_text(
        text.replace('id = "used"', 'id = "used"\nrelevant = "position(..) = 1"', 1),
        encoding="utf-8",
    )
    code, output = run_cli("surveys", "check", surveys=tmp_path)
    assert code == 1
    assert (
        "question 'used': relevant: position(..), the number of the repetition, has a meaning "
        "only inside a repeated page"
    ) in output
