"""The survey-app command as an operator runs it, with a test's settings."""

from __future__ import annotations

from click.testing import CliRunner, Result

from survey_app.cli import main
from survey_app.config import Settings


def environment(settings: Settings) -> dict[str, str]:
    return {
        "SURVEY_APP_INSTANCE_PATH": str(settings.instance_path),
        "SURVEY_APP_SURVEYS_DIR": str(settings.surveys_dir),
        "SURVEY_APP_DATABASE_URL": settings.database_url,
        "SURVEY_APP_ENVIRONMENT": "testing",
    }


def run(settings: Settings, *args: str, input: str | None = None) -> Result:
    """Run `survey-app ARGS` as an operator would, with the test's settings."""
    return CliRunner().invoke(main, list(args), input=input, env=environment(settings))
