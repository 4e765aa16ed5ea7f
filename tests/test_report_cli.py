"""`survey-app report`: refresh the published report, download it, export microdata."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from survey_app.cli import main
from survey_app.config import Settings
from survey_app.models import AuditEvent, ReportSnapshot
from survey_app.operations.sample_data import store_generated
from survey_app.reports.snapshot import parse
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, ROOT, Deployment, make_settings

SURVEY = "service-feedback"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        surveys_dir=str(ROOT / "surveys"),
        reports={"redact_names": ["Marie"]},
    )


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def environment(settings: Settings) -> dict[str, str]:
    return {
        "SURVEY_APP_INSTANCE_PATH": str(settings.instance_path),
        "SURVEY_APP_SURVEYS_DIR": str(settings.surveys_dir),
        "SURVEY_APP_DATABASE_URL": settings.database_url,
        "SURVEY_APP_ENVIRONMENT": "testing",
        "SURVEY_APP_REPORTS_REDACT_NAMES": "Marie",
    }


@pytest.fixture
def responses(app: Flask, deployment: Deployment) -> None:
    state = app_state(app)
    survey = state.surveys[SURVEY]
    store_generated(state.database, survey, 260, sites=("North", "South", "East"))
    # A site whose name a spreadsheet would run as a formula, and one too small to show.
    store_generated(state.database, survey, 30, seed=8, sites=("=SUM(A1:A9)",))
    store_generated(state.database, survey, 2, seed=9, sites=("Hamlet",))
    store_generated(state.database, survey, 25, seed=10, sites=("West",))


def test_refresh_publishes_an_audited_snapshot_with_a_progress_bar(
    app: Flask, responses: None, settings: Settings, runner: CliRunner
) -> None:
    result = runner.invoke(
        main, ["report", "refresh", SURVEY], input=PASSPHRASE + "\n", env=environment(settings)
    )
    assert result.exit_code == 0, result.output
    assert "Opening responses" in result.output
    assert "report published" in result.output and "from 317 responses" in result.output
    with app_state(app).database.session() as db:
        row = db.scalars(select(ReportSnapshot)).one()
        assert (row.survey_id, row.response_count, row.threshold) == (SURVEY, 317, 5)
        document = parse(row.content)
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "report.refresh"))
        assert len(list(events)) == 1
    assert row.versions == app_state(app).surveys[SURVEY].version
    sites = next(d for d in document["dimensions"] if d["id"] == "site")
    assert "Hamlet" not in [g["key"] for g in sites["groups"]]
    assert all(g["size"] >= 15 for g in sites["groups"]), "small sites are merged or left out"
    assert "Marie" not in json.dumps(document), "free text never reaches the snapshot"


def test_refresh_with_a_wrong_passphrase_publishes_nothing(
    app: Flask, responses: None, settings: Settings, runner: CliRunner
) -> None:
    result = runner.invoke(
        main, ["report", "refresh", SURVEY], input="wrong horse\n", env=environment(settings)
    )
    assert result.exit_code == 1
    assert "passphrase" in result.output and "Traceback" not in result.output
    with app_state(app).database.session() as db:
        assert db.scalars(select(ReportSnapshot)).first() is None
        refused = db.scalars(select(AuditEvent).where(AuditEvent.action == "key.unlock.refused"))
        assert "refresh of the report on service-feedback" in refused.one().detail


def refreshed(settings: Settings, runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["report", "refresh", SURVEY], input=PASSPHRASE + "\n", env=environment(settings)
    )
    assert result.exit_code == 0, result.output


def export(settings: Settings, runner: CliRunner, tmp_path: Path, fmt: str) -> Path:
    target = tmp_path / f"report.{fmt}"
    result = runner.invoke(
        main,
        ["report", "export", SURVEY, "--format", fmt, "-o", str(target)],
        env=environment(settings),
    )
    assert result.exit_code == 0, result.output
    return target


def test_downloads_say_counts_are_adjusted_and_neutralise_formulas(
    app: Flask, responses: None, settings: Settings, runner: CliRunner, tmp_path: Path
) -> None:
    refreshed(settings, runner)
    text = export(settings, runner, tmp_path, "csv").read_text(encoding="utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert any("every count is slightly adjusted" in cell for cell in cells)
    assert any(cell.startswith("'=SUM(A1:A9)") for cell in cells)
    assert not any(cell.startswith("=") for cell in cells)

    book = load_workbook(export(settings, runner, tmp_path, "xlsx"))
    assert book.sheetnames[0] == "Contents"
    assert book.sheetnames[1] == "% who felt safe while…", "indicators come first"
    stored = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert any(isinstance(c.value, str) and "slightly adjusted" in c.value for c in stored)
    formulas = [c for c in stored if isinstance(c.value, str) and c.value.startswith("=SUM")]
    assert formulas and all(c.data_type == "s" and c.quotePrefix for c in formulas)
    assert not any(c.data_type == "f" for c in stored)

    document = json.loads(export(settings, runner, tmp_path, "json").read_text(encoding="utf-8"))
    assert document["format"] == 2 and document["views"]
    assert [view["id"] for view in document["views"]] == ["all"]
    with app_state(app).database.session() as db:
        downloads = db.scalars(select(AuditEvent).where(AuditEvent.action == "report.download"))
        assert len(list(downloads)) == 3


def test_export_before_any_refresh_says_what_to_do(
    app: Flask, deployment: Deployment, settings: Settings, runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(
        main, ["report", "export", SURVEY, "-o", str(tmp_path / "x.csv")], env=environment(settings)
    )
    assert result.exit_code == 1
    assert "no published report yet" in result.output


def test_microdata_is_redacted_and_rare_combinations_are_merged(
    app: Flask, responses: None, settings: Settings, runner: CliRunner, tmp_path: Path
) -> None:
    target = tmp_path / "microdata.csv"
    result = runner.invoke(
        main,
        ["report", "microdata", SURVEY, "-o", str(target)],
        input=PASSPHRASE + "\n",
        env=environment(settings),
    )
    assert result.exit_code == 0, result.output
    assert "merged into" in result.output
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert rows and "most_helpful" in rows[0]
    text = json.dumps(rows)
    assert "Marie" not in text and "marie@example.org" not in text
    assert "[name]" in text and "[email]" in text
    # Every column that could single someone out, checked together on the written file; the
    # questions asked only for some services or genders, and "Other" details, by whether they
    # were answered (which tells the answer they depend on).
    quasi = ["version", "round", "channel", "site", "services", "age_band", "gender"]
    quasi += ["time_in_support"]
    dependent = ["services_other", "gender_self_described"]
    dependent += [f"useful_{s}" for s in ("legal", "medical", "psychological", "shelter")]
    dependent += [f"useful_{s}" for s in ("job", "cash", "other")]
    markers = ("(skipped)", "(prefer not to say)", "(not asked)", "(other values)")
    combinations: dict[tuple[str, ...], int] = {}
    for row in rows:
        status = tuple(row[n] if row[n] in markers else "answered" for n in dependent)
        key = (*(row[n] for n in quasi), *status)
        combinations[key] = combinations.get(key, 0) + 1
    assert min(combinations.values()) >= 5
    assert not any(value.startswith("=") for row in rows for value in row.values())
    with app_state(app).database.session() as db:
        assert db.scalars(select(AuditEvent).where(AuditEvent.action == "report.microdata")).one()


def test_refresh_shows_the_breakdowns_asked_for_and_refuses_others(
    app: Flask, responses: None, settings: Settings, runner: CliRunner
) -> None:
    args = ["report", "refresh", SURVEY, "--breakdown", "site", "--breakdown", "nonsense"]
    refused = runner.invoke(main, args, input=PASSPHRASE + "\n", env=environment(settings))
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "“nonsense” is not a breakdown of this report: choose among site" in refused.output
    with app_state(app).database.session() as db:
        assert not db.scalars(select(ReportSnapshot)).all()
    result = runner.invoke(main, args[:-2], input=PASSPHRASE + "\n", env=environment(settings))
    assert result.exit_code == 0, result.output
    with app_state(app).database.session() as db:
        document = parse(db.scalars(select(ReportSnapshot.content)).one())
    assert document.get("featured_breakdowns") == ["site"]


def test_plain_counts_still_answer_to_report_survey_id(
    app: Flask, responses: None, settings: Settings, runner: CliRunner
) -> None:
    result = runner.invoke(
        main, ["report", SURVEY], input=PASSPHRASE + "\n", env=environment(settings)
    )
    assert result.exit_code == 0, result.output
    assert f"{SURVEY}: 317 responses" in result.output
