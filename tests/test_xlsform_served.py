"""Imported XLSForms as respondents see them: served by the app, first page rendered."""

from __future__ import annotations

from pathlib import Path

from survey_app.definitions.xlsform import convert_xlsform
from survey_app.state import app_state
from tests.support.imported import first_page, serve_import
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
