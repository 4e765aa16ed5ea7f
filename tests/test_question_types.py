"""Question types are declared once (survey_app/definitions/types): a type added in one module
and its template is served, checked, reported and exported, and a half-declared type stops the
app before any respondent sees it."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey_app import create_app
from survey_app.definitions import load_survey_text
from survey_app.definitions.types import (
    IncompleteQuestionType,
    Layout,
    QuestionKind,
    Tally,
    kinds,
    register,
    unregister,
)
from survey_app.definitions.types.registry import missing_declarations
from survey_app.definitions.xlsform import convert_xlsform
from survey_app.models import Role
from survey_app.operations.sample_data import fake_answers, store_generated
from survey_app.state import app_state
from tests.support.apps import FIXTURES, PASSPHRASE, Deployment, deploy, make_settings, read_back
from tests.support.cli import run
from tests.support.staff import make_account, open_session
from tests.support.time_type import TimeOfDay
from tests.support.web import DRAFT_FIELD, PAGE_FIELD, Respondent, csrf_token
from tests.test_xlsform import make_form

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

SURVEYS = FIXTURES / "question_types"
ENTRY = "/staff/assist/visits/entry"


@pytest.fixture
def time_type() -> Iterator[None]:
    register(TimeOfDay)
    yield
    unregister(TimeOfDay.name)


@pytest.fixture
def visits(time_type: None, tmp_path: Path, database_url: str) -> Iterator[Flask]:
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(SURVEYS)))
    yield app
    app_state(app).database.dispose()


def caseworker(app: Flask, deployment: Deployment) -> FlaskClient:
    client = app.test_client()
    account = make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    open_session(app, client, account.id)
    return client


def test_every_type_declares_everything_a_type_must() -> None:
    assert {kind.name for kind in kinds()} >= {"single", "rating", "text", "date", "consent"}
    for kind in kinds():
        assert missing_declarations(type(kind)) == [], kind


def test_a_type_added_in_one_module_is_served_and_checked(visits: Flask) -> None:
    deployment = deploy(visits)
    respondent = Respondent(visits.test_client(), deployment.links["visits"])
    respondent.start("en")
    assert '<input type="time" id="arrived" name="arrived" value="" min="06:00" max="22:00"' in (
        respondent.html
    )
    refused = respondent.submit(1, {"country": "ke", "arrived": "25:70"})
    assert refused.status_code == 422
    assert "Please enter a time like 14:30." in respondent.html
    too_early = respondent.submit(1, {"country": "ke", "arrived": "05:15"})
    assert too_early.status_code == 422
    assert "Please enter a time from 06:00 to 22:00." in respondent.html
    respondent.submit(1, {"country": "ke", "arrived": "14:30"})
    assert respondent.page == 2
    # The choice_filter leaves the Kenyan cities only, and the scale's ends are labelled.
    assert 'value="nairobi"' in respondent.html and 'value="kampala"' not in respondent.html
    assert "(Very badly)" in respondent.html and "(Very well)" in respondent.html
    done = respondent.submit(2, {"city": "mombasa", "welcome": "4"})
    assert done.status_code == 200
    (stored,) = read_back(visits, deployment.programme_id, "visits")
    assert stored.answers == {"country": "ke", "arrived": "14:30", "city": "mombasa", "welcome": 4}


def next_section(client: FlaskClient, html: str, answers: dict[str, str], action: str) -> Any:
    """Send a section of assisted entry as its form would (draft and section fields)."""
    draft, page = DRAFT_FIELD.search(html), PAGE_FIELD.search(html)
    assert draft is not None
    data = {**answers, "csrf_token": csrf_token(html), "draft": draft[1]}
    if page is not None:  # the review page has none
        data["page"] = page[1]
    return client.post(ENTRY, data={**data, "action": action})


def test_assisted_entry_and_paper_draw_every_type_as_respondents_see_it(visits: Flask) -> None:
    deployment = deploy(visits)
    client = caseworker(visits, deployment)
    setup = client.get("/staff/assist/visits").get_data(as_text=True)
    first = client.post(
        ENTRY, data={"site": "North", "lang": "fr", "csrf_token": csrf_token(setup)}
    )
    html = first.get_data(as_text=True)
    assert '<input type="time" id="arrived" name="arrived"' in html
    refused = next_section(client, html, {"country": "ke", "arrived": "25:70"}, "next")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Please enter a time like 14:30." in html
    second = next_section(client, html, {"country": "ke", "arrived": "09:45"}, "next")
    html = second.get_data(as_text=True)
    # The ends of the rating scale, in the survivor's language with the caseworker's beside it.
    assert '(<span lang="fr">Très mal</span> <span class="staff-text"' in html
    assert '<div class="options scale">' in html
    # The choice_filter leaves the Kenyan cities, and an option it leaves out is refused.
    assert 'value="nairobi"' in html and 'value="kampala"' not in html
    crafted = next_section(client, html, {"city": "kampala", "welcome": "5"}, "next")
    html = crafted.get_data(as_text=True)
    assert crafted.status_code == 422
    assert "Please choose one of the options shown." in html  # the caseworker's language
    review = next_section(client, html, {"city": "nairobi", "welcome": "5"}, "next")
    saved = next_section(client, review.get_data(as_text=True), {}, "save")
    assert saved.status_code == 303
    (stored,) = read_back(visits, deployment.programme_id, "visits")
    assert stored.answers["arrived"] == "09:45" and stored.meta.channel == "assisted"
    paper = client.get("/staff/surveys/visits/paper?lang=fr").get_data(as_text=True)
    assert "À quelle heure êtes-vous arrivé·e ?" in paper
    assert paper.count('<div class="paper-lines" aria-hidden="true"></div>') == 1
    assert "Très mal" in paper and "Très bien" in paper


def test_a_type_added_in_one_module_is_reported_and_exported(visits: Flask, tmp_path: Path) -> None:
    deploy(visits)
    state = app_state(visits)
    survey = state.surveys["visits"]
    made = fake_answers(survey, random.Random(3))
    assert isinstance(made.get("arrived", "06:00"), str)
    store_generated(state.database, survey, 40, sites=("North",))
    settings = state.settings
    assert run(settings, "report", "refresh", "visits", input=PASSPHRASE + "\n").exit_code == 0
    target = tmp_path / "report.json"
    exported = run(settings, "report", "export", "visits", "--format", "json", "-o", str(target))
    assert exported.exit_code == 0, exported.output
    document: dict[str, Any] = json.loads(target.read_text())
    arrived = next(v for v in document["variables"] if v["id"] == "arrived")
    assert (arrived["kind"], arrived["type"]) == ("date", "time")
    # Only whether it was answered is counted: no row per time of day.
    assert {row["key"] for row in arrived["rows"]} <= {
        "_answered",
        "_skipped",
        "_pnts",
        "_not_asked",
    }
    output = tmp_path / "microdata.csv"
    result = run(
        settings, "report", "microdata", "visits", "-o", str(output), input=PASSPHRASE + "\n"
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8-sig"))))
    times = {row["arrived"] for row in rows} - {"(skipped)", "(prefer not to say)"}
    assert times and all(len(value) == 5 and value[2] == ":" for value in times), times


def test_a_type_names_the_xlsform_types_it_reads(time_type: None, tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [["type", "name", "label"], ["time", "arrived", "What time did you arrive?"]],
    )
    survey = load_survey_text(
        convert_xlsform(path, survey_id="arrivals").toml_text, "arrivals.toml"
    )
    assert survey.question("arrived").type == "time"


def test_a_survey_naming_an_unknown_type_is_refused_with_the_known_ones(time_type: None) -> None:
    text = (SURVEYS / "visits.toml").read_text().replace('type = "time"', 'type = "clock"')
    with pytest.raises(Exception, match=r'unsupported type "clock" \(use one of: single, .*time'):
        load_survey_text(text, "visits.toml")


class HalfDone(QuestionKind):
    name = "halfdone"
    keys = ("id", "type", "label")
    layout = Layout.FIELD
    template = "questions/halfdone.html"
    xlsform_types = ()
    widest_answer = 0

    def parse(self, question: Any, values: list[str], max_text: int) -> object:
        return values[0]


def test_a_type_that_leaves_something_out_is_refused_when_registered() -> None:
    with pytest.raises(IncompleteQuestionType) as refused:
        register(HalfDone)
    assert refused.value.missing == ["tally", "export", "load()", "sample()"]
    assert "halfdone" not in {kind.name for kind in kinds()}


class NotDrawn(TimeOfDay):
    name = "notdrawn"
    template = "questions/notdrawn.html"
    tally = Tally.TEXT


@pytest.mark.parametrize("template", [None, "{% macro input(q) %}{% endmacro %}"])
def test_a_type_without_its_template_stops_the_app_at_start(
    template: str | None, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "types"
    (folder / "questions").mkdir(parents=True)
    if template is not None:
        (folder / "questions" / "notdrawn.html").write_text(template)
    monkeypatch.setattr(NotDrawn, "template_folder", folder)
    register(NotDrawn)
    try:
        with pytest.raises(IncompleteQuestionType, match="notdrawn"):
            create_app(make_settings(tmp_path, database_url))
    finally:
        unregister(NotDrawn.name)
