"""The survey-app command, used as an operator would."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from survey_app.cli import main
from survey_app.config import Settings
from tests.support.apps import PASSPHRASE, Deployment
from tests.support.cli import environment
from tests.support.web import Respondent


def submit(client: FlaskClient, token: str, answers: dict[str, str]) -> None:
    reply = Respondent(client, token).complete({"consent": "yes"}, answers)
    assert reply.status_code == 200 and "Thank you" in reply.get_data(as_text=True)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_report_prints_counts_read_from_sealed_rows(
    app: Flask, client: FlaskClient, deployment: Deployment, settings: Settings, runner: CliRunner
) -> None:
    submit(client, deployment.links["minimal"], {"felt_safe": "yes", "age": "30"})
    submit(client, deployment.links["minimal"], {"felt_safe": "yes"})
    submit(client, deployment.links["minimal"], {"felt_safe": "_pnts", "comment": "private words"})
    result = runner.invoke(
        main, ["report", "minimal"], input=PASSPHRASE + "\n", env=environment(settings)
    )
    assert result.exit_code == 0, result.output
    assert "minimal: 3 responses" in result.output
    assert "felt_safe: Did you feel safe?" in result.output
    assert "  yes: 2" in result.output and "  (prefer not to say): 1" in result.output
    assert "  (skipped): 2" in result.output  # age skipped twice
    assert "private words" not in result.output


def test_report_with_wrong_passphrase_is_a_clear_error(
    app: Flask, deployment: Deployment, settings: Settings, runner: CliRunner
) -> None:
    result = runner.invoke(
        main, ["report", "minimal"], input="not the passphrase\n", env=environment(settings)
    )
    assert result.exit_code == 1
    assert "passphrase" in result.output.lower()
    assert "Traceback" not in result.output


def test_db_upgrade_then_commands_need_current_schema(tmp_path: Path, runner: CliRunner) -> None:
    env = {"SURVEY_APP_INSTANCE_PATH": str(tmp_path / "inst"), "SURVEY_APP_ENVIRONMENT": "testing"}
    result = runner.invoke(main, ["programmes", "list"], env=env)
    assert result.exit_code == 1 and "survey-app db upgrade" in result.output
    result = runner.invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main, ["programmes", "create", "legal-clinic", "--name", "Legal clinic"], env=env
    )
    assert result.exit_code == 0 and "created programme legal-clinic" in result.output
    result = runner.invoke(main, ["audit", "list"], env=env)
    assert result.exit_code == 0 and "programme.create" in result.output, result.output
    result = runner.invoke(main, ["programmes", "create", "Bad Slug!", "--name", "x"], env=env)
    assert result.exit_code == 1 and "lower-case" in result.output


def test_bad_configuration_stops_with_the_key_named(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["db", "current"], env={"SURVEY_APP_SERVER_PORT": "eighty"})
    assert result.exit_code == 1
    assert "server.port: expected a whole number" in result.output


def test_help_contacts_set_from_a_file_show_on_respondent_pages(
    app: Flask,
    client: FlaskClient,
    deployment: Deployment,
    settings: Settings,
    runner: CliRunner,
    tmp_path: Path,
) -> None:
    good = tmp_path / "help.toml"
    good.write_text(
        '[[ar]]\nname = "خط المساعدة"\nphone = "+961 1 000 000"\n[[en]]\nname = "Helpline"\nphone = "+961 1 000 000"\n',
        encoding="utf-8",
    )
    result = runner.invoke(
        main, ["programmes", "set-help", "shelter", str(good)], env=environment(settings)
    )
    assert result.exit_code == 0, result.output
    landing = client.get(f"/s/{deployment.links['minimal']}")
    assert "Helpline" in landing.get_data(as_text=True)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[en]]\nphone = "1"\n', encoding="utf-8")
    result = runner.invoke(
        main, ["programmes", "set-help", "shelter", str(bad)], env=environment(settings)
    )
    assert result.exit_code == 1 and "en contact 1: needs a name" in result.output


def test_demo_sets_up_once_and_prints_links_and_secrets(tmp_path: Path, runner: CliRunner) -> None:
    from tests.support.apps import ROOT

    env = {
        "SURVEY_APP_INSTANCE_PATH": str(tmp_path / "instance"),
        "SURVEY_APP_SURVEYS_DIR": str(ROOT / "surveys"),
    }
    first = runner.invoke(main, ["demo", "--no-serve", "--sample-responses", "12"], env=env)
    assert first.exit_code == 0, first.output
    assert first.output.count("/s/") == 4  # two example surveys, two sites each
    assert "key passphrase of programme 'demo':" in first.output
    assert "admin account: admin / " in first.output
    passphrase = first.output.split("key passphrase of programme 'demo': ")[1].split()[0]
    report = runner.invoke(main, ["report", "service-feedback"], input=passphrase + "\n", env=env)
    assert report.exit_code == 0 and "service-feedback: 12 responses" in report.output
    again = runner.invoke(main, ["demo", "--no-serve"], env=env)
    assert again.exit_code == 0
    assert "key passphrase" not in again.output and "set up earlier" in again.output
