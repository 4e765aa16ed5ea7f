"""`survey-app doctor` on the documented deployment: it passes there, and each planted fault
makes it fail (exit status 1) with a line naming the fix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import select, update

from survey_app import migrate
from survey_app.cli import main
from survey_app.config import Settings
from survey_app.db import Database
from survey_app.models import DeploymentFact, KeyStatus, Programme, ProgrammeKey
from survey_app.operations.deployment import FINGERPRINT_FACT
from survey_app.operations.sample_data import store_generated
from survey_app.state import app_state
from tests.support.apps import Deployment
from tests.support.redis_store import REDIS_URL, redis_prefix
from tests.support.staff import make_account


class Site:
    """A deployment set up as README 'Running it for real' and 'Running several servers' say."""

    def __init__(self, app: Flask, settings: Settings, tmp_path: Path) -> None:
        self.app = app
        self.settings = settings
        self.key_file = tmp_path / "etc" / "secret_key"
        self.key_file.parent.mkdir()
        self.env = {
            "SURVEY_APP_ENVIRONMENT": "production",
            "SURVEY_APP_INSTANCE_PATH": str(settings.instance_path),
            "SURVEY_APP_SURVEYS_DIR": str(settings.surveys_dir),
            "SURVEY_APP_DATABASE_URL": settings.database_url,
            "SURVEY_APP_SECURITY_SECRET_KEY_FILE": str(self.key_file),
            "SURVEY_APP_SERVER_TRUSTED_PROXIES": "1",
            "SURVEY_APP_SERVER_PUBLIC_URL": "https://feedback.example.org",
        }
        made = self.doctor_command("secret-key", "new", str(self.key_file))
        assert made.exit_code == 0, made.output
        settings.instance_path.chmod(0o700)
        for path in settings.instance_path.rglob("*"):
            path.chmod(0o700 if path.is_dir() else 0o600)

    def doctor_command(self, *args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=self.env)

    def doctor(self) -> Result:
        return self.doctor_command("doctor")

    @property
    def database(self) -> Database:
        return app_state(self.app).database


@pytest.fixture
def site(app: Flask, settings: Settings, deployment: Deployment, tmp_path: Path) -> Site:
    return Site(app, settings, tmp_path)


def test_doctor_passes_on_a_deployment_set_up_as_documented(site: Site) -> None:
    result = site.doctor()
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    for name in (
        "file modes",
        "demo secrets",
        "proxy",
        "public address",
        "secret key",
        "code key",
        "migrations",
    ):
        assert f"ok    {name}:" in result.output
    assert "programme keys: shelter" in result.output and "help contacts: shelter" in result.output


def test_doctor_passes_with_several_workers_sharing_redis(site: Site) -> None:
    redis_prefix()  # skips without Redis (fails in CI)
    site.env |= {"SURVEY_APP_SERVER_WORKERS": "4", "SURVEY_APP_RATE_LIMITS_STORAGE_URL": REDIS_URL}
    result = site.doctor()
    assert result.exit_code == 0, result.output
    assert "ok    redis: the rate-limit store answers" in result.output


def _instance_open_to_all(site: Site) -> str:
    site.settings.instance_path.chmod(0o755)
    return f"fix: chmod 700 {site.settings.instance_path}"


def _key_file_readable(site: Site) -> str:
    site.key_file.chmod(0o644)
    return f"fix: chmod 600 {site.key_file}"


def _demo_secrets_left(site: Site) -> str:
    (site.settings.instance_path / "demo-secrets.txt").write_text("x\n", encoding="utf-8")
    return "then delete the file"


def _schema_behind(site: Site) -> str:
    migrate.downgrade(site.database, "-1")
    return "fix: survey-app db upgrade"


def _programme_without_key(site: Site) -> str:
    with site.database.session() as session:
        session.execute(update(ProgrammeKey).values(status=KeyStatus.RETIRED))
    return "fix: survey-app keys create shelter"


def _no_help_contacts(site: Site) -> str:
    with site.database.session() as session:
        session.execute(update(Programme).values(help_contacts={}))
    return "fix: survey-app programmes set-help shelter"


def _responses_past_retention(site: Site) -> str:
    survey = app_state(site.app).surveys["minimal"]
    old = date.today() - timedelta(days=800)
    store_generated(site.database, survey, 3, days=[old], sites=["North"])
    return "fix: survey-app purge, and run it daily"


def _redis_not_answering(site: Site) -> str:
    site.env["SURVEY_APP_RATE_LIMITS_STORAGE_URL"] = "redis://127.0.0.1:1/0"
    return "fix: start Redis there, or correct rate_limits.storage_url"


def _workers_without_shared_store(site: Site) -> str:
    site.env["SURVEY_APP_SERVER_WORKERS"] = "2"
    return "fix: set rate_limits.storage_url"


def _another_servers_secret_key(site: Site) -> str:
    with site.database.session() as session:
        session.merge(DeploymentFact(name=FINGERPRINT_FACT, value="0" * 64))
    return "fix: give every server the same security.secret_key_file"


def _missing_secret_key_file(site: Site) -> str:
    site.key_file.unlink()
    return f"fix: survey-app secret-key new {site.key_file}"


def _no_public_address(site: Site) -> str:
    del site.env["SURVEY_APP_SERVER_PUBLIC_URL"]
    return "fix: set server.public_url"


def _plain_http_address(site: Site) -> str:
    site.env["SURVEY_APP_SERVER_PUBLIC_URL"] = "http://feedback.example.org"
    return "fix: serve over TLS"


def _lost_code_key(site: Site) -> str:
    from survey_app.intake.distribution import create_codes, create_link

    state = app_state(site.app)
    with state.database.session() as session:
        programme = session.scalars(select(Programme)).first()
        assert programme is not None
        link = create_link(session, programme, "minimal", "Clinic", requires_code=True)
        create_codes(session, link, 3, state.code_key)
    (site.settings.instance_path / "code_key").unlink(missing_ok=True)
    return f"fix: restore {site.settings.instance_path / 'code_key'} from your backup"


def _lost_totp_key(site: Site) -> str:
    make_account(site.app, "tess", superadmin=True, totp=True)
    (site.settings.instance_path / "totp_key").unlink(missing_ok=True)
    return f"fix: restore {site.settings.instance_path / 'totp_key'} from your backup"


def _development_mode(site: Site) -> str:
    site.env["SURVEY_APP_ENVIRONMENT"] = "development"
    return 'fix: set environment = "production"'


def _no_database(site: Site) -> str:
    site.env["SURVEY_APP_DATABASE_URL"] = f"sqlite:///{site.settings.instance_path}/none.db"
    return "no database at"


FAULTS: list[Callable[[Site], str]] = [
    _instance_open_to_all,
    _key_file_readable,
    _demo_secrets_left,
    _schema_behind,
    _programme_without_key,
    _no_help_contacts,
    _responses_past_retention,
    _redis_not_answering,
    _workers_without_shared_store,
    _another_servers_secret_key,
    _missing_secret_key_file,
    _development_mode,
    _no_database,
    _no_public_address,
    _plain_http_address,
    _lost_code_key,
    _lost_totp_key,
]


@pytest.mark.parametrize("plant", FAULTS, ids=lambda plant: plant.__name__.strip("_"))
def test_doctor_fails_on_a_planted_fault_and_names_the_fix(
    site: Site, plant: Callable[[Site], str]
) -> None:
    fix = plant(site)
    result = site.doctor()
    assert result.exit_code == 1, result.output
    assert fix in result.output, result.output
    assert "Traceback" not in result.output
