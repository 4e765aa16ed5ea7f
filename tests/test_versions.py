"""A changed survey file is a new version; answers to the old one stay readable and reportable."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from survey_app import create_app, migrate
from survey_app.cli import main
from survey_app.definitions import load_survey_json
from survey_app.models import InboxResponse, SurveyVersion
from survey_app.state import app_state
from tests.support.apps import FIXTURES, PASSPHRASE, Deployment, deploy, make_settings
from tests.support.web import Respondent


def answer(app: Flask, token: str, page2: dict[str, str]) -> None:
    reply = Respondent(app.test_client(), token).complete({"consent": "yes"}, page2)
    assert reply.status_code == 200 and "Thank you" in reply.get_data(as_text=True)


def test_old_answers_survive_rewording_adding_and_removing_questions(
    tmp_path: Path, database_url: str
) -> None:
    folder = tmp_path / "surveys"
    folder.mkdir()
    survey_file = folder / "minimal.toml"
    shutil.copy(FIXTURES / "served" / "minimal.toml", survey_file)
    settings = make_settings(tmp_path, database_url, surveys_dir=str(folder))

    first = create_app(settings)
    migrate.upgrade(app_state(first).database)
    deployment = deploy(first)
    token = deployment.links["minimal"]
    old_version = app_state(first).surveys["minimal"].version
    answer(first, token, {"felt_safe": "yes", "age": "30"})
    app_state(first).database.dispose()

    # Reword a question, remove `age`, add `stayed`: a new version of the same survey.
    text = survey_file.read_text(encoding="utf-8")
    text = text.replace("Did you feel safe?", "Did you feel safe here?")
    age_start = text.index('[[pages.questions]]\nid = "age"')
    age_end = text.index("[[pages.questions]]", age_start + 5)
    text = text[:age_start] + text[age_end:]
    text += '\n[[pages.questions]]\nid = "stayed"\ntype = "yesno"\nlabel = { en = "Did you stay?", ar = "هل بقيت؟" }\n'
    survey_file.write_text(text, encoding="utf-8")

    second = create_app(settings)
    new_version = app_state(second).surveys["minimal"].version
    assert new_version != old_version
    answer(second, token, {"felt_safe": "no", "stayed": "yes"})

    with app_state(second).database.session() as session:
        versions = {v.version: v.definition for v in session.scalars(select(SurveyVersion))}
        assert set(versions) == {old_version, new_version}
        old = load_survey_json(versions[old_version])
        assert old.version == old_version and old.has_question("age")
        assert sorted(r.survey_version for r in session.scalars(select(InboxResponse))) == sorted(
            [old_version, new_version]
        )
    app_state(second).database.dispose()

    env = {
        "SURVEY_APP_INSTANCE_PATH": str(settings.instance_path),
        "SURVEY_APP_SURVEYS_DIR": str(folder),
        "SURVEY_APP_DATABASE_URL": settings.database_url,
        "SURVEY_APP_ENVIRONMENT": "testing",
    }
    result = CliRunner().invoke(main, ["report", "minimal"], input=PASSPHRASE + "\n", env=env)
    assert result.exit_code == 0, result.output
    assert "minimal: 2 responses" in result.output
    assert "  yes: 1" in result.output and "  no: 1" in result.output
    assert "could not be opened" not in result.output


def test_a_version_counts_as_stored_only_once_its_transaction_has_committed(
    app: Flask, deployment: Deployment
) -> None:
    state = app_state(app)
    survey = state.surveys["minimal"]
    with state.database.session() as session:
        assert session.get(SurveyVersion, ("minimal", survey.version)) is None
    try:
        with state.database.session() as session:
            state.ensure_registered(survey, session)
            raise RuntimeError("the request failed after registering")
    except RuntimeError:
        pass
    assert not state.version_stored(survey)
    # So the next response registers it itself, and is stored.
    answer(app, deployment.links["minimal"], {"felt_safe": "yes"})
    assert state.version_stored(survey)
    with state.database.session() as session:
        assert session.get(SurveyVersion, ("minimal", survey.version)) is not None
        assert len(session.scalars(select(InboxResponse)).all()) == 1
