"""Imported XLSForms as respondents see them: served by the app, first page rendered."""

from __future__ import annotations

from pathlib import Path

from survey_app.definitions.xlsform import convert_xlsform
from survey_app.state import app_state
from tests.support.apps import deploy
from tests.support.imported import first_page, serve_import
from tests.support.web import Respondent
from tests.test_xlsform import make_form


def test_required_mark_is_shown_as_a_mark_not_as_markup(tmp_path: Path, database_url: str) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "required"],
            ["integer", "age", "How old are you?", "yes"],
            ["select_one yn", "safe", "Did you feel safe?", "yes"],
        ],
        choices=[["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]],
    )
    app = serve_import(convert_xlsform(path, survey_id="needed"), tmp_path, database_url)
    try:
        status, html = first_page(app, "needed")
    finally:
        app_state(app).database.dispose()
    assert status == 200
    assert html.count('<span class="required">(required)</span>') == 2
    assert "&lt;span" not in html


def test_partial_translation_is_served_in_the_default_language_with_a_note(
    tmp_path: Path, database_url: str
) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label::English (en)", "label::Français (fr)"],
            ["integer", "age", "How old are you?", "Quel âge avez-vous ?"],
            ["text", "why", "Why did you come?"],
        ],
    )
    result = convert_xlsform(path, survey_id="partial")
    assert "no 'fr' text on row 3" in "\n".join(str(note) for note in result.notes)
    app = serve_import(result, tmp_path, database_url)
    try:
        links = deploy(app).links
        status, french = first_page(app, "partial", lang="fr", links=links)
        _, english = first_page(app, "partial", lang="en", links=links)
    finally:
        app_state(app).database.dispose()
    assert status == 200
    assert "Quel âge avez-vous ?" in french and "Why did you come?" in french
    assert "pas encore traduite et s\u2019affiche en" in french
    assert "no translation yet" not in english and "pas encore traduite" not in english


def test_an_answer_from_an_earlier_page_is_inserted_into_a_label_escaped(
    tmp_path: Path, database_url: str
) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "hint"],
            ["begin group", "first", "First"],
            ["text", "Nick", "What should we call you?"],
            ["integer", "kids", "How many children?"],
            ["end group"],
            ["begin group", "second", "Second"],
            ["text", "why", "Why ${kids}, ${Nick}?", "Same page: ${why}"],
            ["end group"],
        ],
    )
    result = convert_xlsform(path, survey_id="piped")
    notes = "\n".join(str(note) for note in result.notes)
    assert "survey row 7: the label inserts ${Nick}, ${kids}: respondents see the answer" in notes
    assert "Why ${kids}, ${nick}?" in result.toml_text  # under the id the survey gives it
    app = serve_import(result, tmp_path, database_url)
    try:
        respondent = Respondent(app.test_client(), deploy(app).links["piped"])
        respondent.start()
        respondent.submit(1, {"nick": "<b>Ana</b>", "kids": "3"})
        second = respondent.html
        respondent.submit(2, {}, action="back")
        respondent.submit(1, {"nick": "", "kids": "3"})
        skipped = respondent.html
    finally:
        app_state(app).database.dispose()
    assert "Why 3, &lt;b&gt;Ana&lt;/b&gt;?" in second
    assert "<b>Ana</b>" not in second
    assert "Same page: ${why}" in second  # shown as written, as the import warned
    assert "Why 3, ?" in skipped


def test_a_calculation_in_a_label_is_computed_from_earlier_answers_escaped(
    tmp_path: Path, database_url: str
) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "hint", "calculation"],
            ["begin group", "first", "First"],
            ["integer", "Adults", "How many adults?"],
            ["integer", "kids", "How many children?"],
            ["text", "nick", "What should we call you?"],
            ["end group"],
            ["calculate", "total", None, None, "${Adults} + ${kids}"],
            ["calculate", "greeting", None, None, "concat('<i>', ${nick}, '</i>')"],
            ["begin group", "second", "Second"],
            ["text", "why", "Why ${total} people?", "${greeting}"],
            ["end group"],
        ],
    )
    result = convert_xlsform(path, survey_id="computed")
    notes = "\n".join(str(note) for note in result.notes)
    assert (
        "survey row 10: the label inserts the calculation ${total} (row 7): respondents see it "
        "computed from their answers on earlier pages"
    ) in notes
    assert "dropped" not in notes
    assert "[calculations]" in result.toml_text
    app = serve_import(result, tmp_path, database_url)
    try:
        respondent = Respondent(app.test_client(), deploy(app).links["computed"])
        respondent.start()
        respondent.submit(1, {"adults": "2", "kids": "3", "nick": "Ana"})
        second = respondent.html
        respondent.submit(2, {}, action="back")
        respondent.submit(1, {"adults": "2", "kids": "", "nick": ""})
        skipped = respondent.html
    finally:
        app_state(app).database.dispose()
    assert "Why 5 people?" in second
    assert "&lt;i&gt;Ana&lt;/i&gt;" in second and "<i>Ana</i>" not in second
    assert "Why  people?" in skipped  # cannot be computed: empty, as ODK stores it
