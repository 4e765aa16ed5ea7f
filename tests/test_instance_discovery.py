"""Where the command finds its data: the same instance folder as the app, and no empty database
made by a command run from the wrong folder. Run as a user would: the installed command, in a
subprocess, from another working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.apps import ROOT

SURVEY_APP = Path(sys.executable).with_name("survey-app")


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("SURVEY_APP_") and name != "DATABASE_URL"
    }
    clean.update(SURVEY_APP_SURVEYS_DIR=str(ROOT / "surveys"), **env)
    return subprocess.run(
        [str(SURVEY_APP), *args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=120
    )


def test_a_command_from_another_folder_says_where_it_looked_and_creates_nothing(
    tmp_path: Path,
) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    set_up = run("db", "upgrade", cwd=project)
    assert set_up.returncode == 0, set_up.stderr
    assert (project / "instance" / "survey.db").is_file()

    lost = run("links", "list", "demo", cwd=elsewhere)

    assert lost.returncode == 1
    message = " ".join(lost.stderr.split())
    assert f"no database at {elsewhere / 'instance' / 'survey.db'}" in message
    assert f"relative to the working folder {elsewhere}" in message
    assert "SURVEY_APP_INSTANCE_PATH" in message and "SURVEY_APP_CONFIG" in message
    assert "Traceback" not in lost.stderr
    assert list(elsewhere.iterdir()) == [], "a command that needs data created files"

    found = run("links", "list", cwd=elsewhere, SURVEY_APP_INSTANCE_PATH=str(project / "instance"))
    assert found.returncode == 0, found.stderr
    config = tmp_path / "config.toml"
    config.write_text(f'instance_path = "{project / "instance"}"\n', encoding="utf-8")
    from_config = run("links", "list", cwd=elsewhere, SURVEY_APP_CONFIG=str(config))
    assert from_config.returncode == 0, from_config.stderr
    assert list(elsewhere.iterdir()) == []


def test_a_wrong_instance_path_is_named_with_where_it_came_from(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = run("keys", "list", "demo", cwd=tmp_path, SURVEY_APP_INSTANCE_PATH=str(missing))
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert f"no database at {missing / 'survey.db'}" in message
    assert "(from SURVEY_APP_INSTANCE_PATH)" in message
    assert not missing.exists()


def test_the_command_line_does_not_load_the_web_app_unless_it_serves() -> None:
    """`survey-app --help` and the help of other commands start without Flask, the servers,
    Alembic or openpyxl: each is imported by the commands that need it."""
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from survey_app.cli import main\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "for name in ('keys', 'report', 'links', 'doctor', 'demo'):\n"
        "    assert CliRunner().invoke(main, [name, '--help']).exit_code == 0, name\n"
        "slow = {'flask', 'waitress', 'gunicorn', 'alembic', 'openpyxl'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in slow))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"
