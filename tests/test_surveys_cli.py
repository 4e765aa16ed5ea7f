"""`survey-app surveys check` and `import`, and what the app does with an invalid survey at start."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from survey_app import create_app
from survey_app.cli import main
from survey_app.state import app_state
from tests.support.apps import FIXTURES, ROOT, make_settings

XLSFORMS = FIXTURES / "xlsforms"


def run(*args: str, surveys: Path) -> tuple[int, str]:
    env = {"SURVEY_APP_SURVEYS_DIR": str(surveys), "SURVEY_APP_ENVIRONMENT": "testing"}
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_check_passes_on_the_shipped_surveys() -> None:
    code, output = run("surveys", "check", surveys=ROOT / "surveys")
    assert code == 0, output
    assert "ok  service-feedback version" in output and "(en, fr, ar)" in output


def test_check_names_file_question_and_problem_one_per_line() -> None:
    code, output = run("surveys", "check", surveys=FIXTURES / "surveys")
    assert code == 1
    lines = [
        line for line in output.splitlines() if line.endswith(".toml") is False and ".toml:" in line
    ]
    assert len(lines) >= 18
    assert any(
        "unknown-reference.toml: question" in line and "unknown question" in line for line in lines
    )
    assert any("toml-syntax.toml" in line for line in lines)
    assert "error(s) and" in output


def test_check_warns_of_missing_translations_and_fails_on_them_only_when_strict(
    tmp_path: Path,
) -> None:
    shutil.copy(FIXTURES / "surveys" / "missing-translation.toml", tmp_path)
    code, output = run("surveys", "check", surveys=tmp_path)
    assert code == 0, output
    assert "warning: " in output and "label: missing translation for 'fr'" in output
    assert "ok  missing-translation version" in output
    assert "0 error(s) and 1 warning(s)" in output
    code, output = run("surveys", "check", "--strict", surveys=tmp_path)
    assert code == 1
    assert "0 error(s) and 1 warning(s)" in output and "--strict" in output


def test_an_invalid_survey_is_reported_and_not_served_the_valid_ones_are(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "surveys"
    folder.mkdir()
    shutil.copy(FIXTURES / "served" / "minimal.toml", folder)
    shutil.copy(FIXTURES / "surveys" / "unknown-reference.toml", folder)
    caplog.set_level(logging.ERROR)
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(folder)))
    assert set(app_state(app).surveys) == {"minimal"}
    assert any("unknown-reference.toml" in r.getMessage() for r in caplog.records)
    app_state(app).database.dispose()


def test_import_writes_a_checked_survey_and_refuses_to_overwrite(tmp_path: Path) -> None:
    code, output = run(
        "surveys",
        "import",
        str(XLSFORMS / "kobo_sample_xlsform.xlsx"),
        "--id",
        "sample",
        surveys=tmp_path,
    )
    assert code == 0, output
    assert (tmp_path / "sample.toml").exists()
    code, output = run("surveys", "check", surveys=tmp_path)
    assert code == 0, output
    code, output = run(
        "surveys",
        "import",
        str(XLSFORMS / "kobo_sample_xlsform.xlsx"),
        "--id",
        "sample",
        surveys=tmp_path,
    )
    assert code == 1
    assert "sample.toml already exists; use --force to replace it" in output


def test_import_of_an_unconvertible_form_names_rows_and_writes_nothing(tmp_path: Path) -> None:
    form = XLSFORMS / "kobo_number_decimal_range.xlsx"
    code, output = run("surveys", "import", str(form), surveys=tmp_path)
    assert code == 1
    assert "row 9" in output and "unknown range parameter 'tart'" in output
    assert list(tmp_path.iterdir()) == []


def test_import_of_a_file_that_is_not_a_form(tmp_path: Path) -> None:
    bogus = tmp_path / "form.xlsx"
    bogus.write_text("not a spreadsheet", encoding="utf-8")
    code, output = run("surveys", "import", str(bogus), surveys=tmp_path / "out")
    assert code == 1 and "Traceback" not in output
