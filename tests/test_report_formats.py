"""The map of download formats: each format is served by the one route and the one command,
with its media type, its file name and its audit event; a format added to the map needs
nothing else; a format not in it is refused with a message saying which exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey_app.cli import main
from survey_app.config import Settings
from survey_app.models import AuditEvent, Role
from survey_app.operations.sample_data import store_generated
from survey_app.reports import formats
from survey_app.reports.presentation import Labels
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, ROOT, Deployment, make_settings
from tests.support.staff import make_account, open_session, post

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

SURVEY = "service-feedback"
DASHBOARD = f"/reports/{SURVEY}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, surveys_dir=str(ROOT / "surveys"))


@pytest.fixture
def published(app: Flask, deployment: Deployment) -> None:
    """A report refreshed by an analyst on the web, as analysts do."""
    state = app_state(app)
    store_generated(state.database, state.surveys[SURVEY], 150, sites=("North", "South"))
    analyst = client_as(app, deployment, Role.ANALYST)
    reply = post(
        analyst, f"{DASHBOARD}/refresh", {"passphrase": PASSPHRASE}, page_url=f"{DASHBOARD}/refresh"
    )
    assert reply.status_code == 303, reply.get_data(as_text=True)


@pytest.fixture
def text_format(monkeypatch: pytest.MonkeyPatch) -> formats.ExportFormat:
    """A format that only this test knows, registered the way any format is."""
    monkeypatch.setattr(formats, "FORMATS", dict(formats.FORMATS))

    def build(labels: Labels, view_id: str) -> bytes:
        return f"{labels.title()} / {view_id}\n".encode()

    return formats.register(
        formats.ExportFormat(
            "txt", "text/plain; charset=utf-8", "Plain text", build, "report.download-text"
        )
    )


def client_as(app: Flask, deployment: Deployment, role: Role) -> FlaskClient:
    account = make_account(
        app, role.value, role=role, programme_id=deployment.programme_id, totp=True
    )
    client = app.test_client()
    open_session(app, client, account.id)
    return client


def audit_rows(app: Flask) -> list[tuple[str, str]]:
    with app_state(app).database.session() as db:
        return [
            (e.action, e.detail) for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def test_the_built_in_formats() -> None:
    assert list(formats.FORMATS) == ["xlsx", "csv", "json"]
    assert {f.audit_action for f in formats.FORMATS.values()} == {"report.download"}


def test_every_format_in_the_map_is_offered_served_and_audited(
    app: Flask,
    deployment: Deployment,
    published: None,
    text_format: formats.ExportFormat,
    settings: Settings,
    tmp_path: Path,
) -> None:
    viewer = client_as(app, deployment, Role.VIEWER)
    page = viewer.get(DASHBOARD, query_string={"view": "site=North"}).get_data(as_text=True)
    offered = re.findall(rf'href="{DASHBOARD}/report\.(\w+)\?view=site%3DNorth">([^<]+)</a>', page)
    assert offered == [("xlsx", "Excel workbook"), ("csv", "CSV (one row per number)"),
                       ("json", "JSON"), ("txt", "Plain text")]  # fmt: skip

    runner = CliRunner()
    environment = {
        "SURVEY_APP_INSTANCE_PATH": str(settings.instance_path),
        "SURVEY_APP_SURVEYS_DIR": str(settings.surveys_dir),
        "SURVEY_APP_DATABASE_URL": settings.database_url,
        "SURVEY_APP_ENVIRONMENT": "testing",
    }
    for export_format in formats.FORMATS.values():
        name = export_format.name
        before = len(audit_rows(app))
        reply = viewer.get(f"{DASHBOARD}/report.{name}", query_string={"view": "site=North"})
        assert reply.status_code == 200, name
        assert reply.headers["Content-Type"] == export_format.media_type
        disposition = reply.headers["Content-Disposition"]
        assert re.fullmatch(
            rf"attachment; filename={SURVEY}-report-\d{{4}}-\d\d-\d\d-site-North\.{name}",
            disposition,
        ), disposition
        action, detail = audit_rows(app)[before]
        assert action == export_format.audit_action
        assert detail.endswith(f"view site=North, as {name}")

        target = tmp_path / f"report.{name}"
        arguments = ["report", "export", SURVEY, "--format", name, "--view", "site=North"]
        result = runner.invoke(main, [*arguments, "-o", str(target)], env=environment)
        assert result.exit_code == 0, result.output
        if name != "xlsx":  # a workbook records when it was written
            assert target.read_bytes() == reply.get_data(), name
        assert audit_rows(app)[-1][0] == export_format.audit_action

    assert viewer.get(f"{DASHBOARD}/report.txt").get_data() == b"Your views on the support " \
        b"you received / all\n"  # fmt: skip
    assert [a for a, _ in audit_rows(app)].count("report.download-text") == 3


def test_a_format_not_in_the_map_is_not_found_and_says_which_exist(
    app: Flask, deployment: Deployment, published: None, settings: Settings, tmp_path: Path
) -> None:
    viewer = client_as(app, deployment, Role.VIEWER)
    before = audit_rows(app)
    reply = viewer.get(f"{DASHBOARD}/report.pdf")
    assert reply.status_code == 404
    assert (
        "There is no download format &#39;pdf&#39;; choose one of xlsx, csv, json."
        in reply.get_data(as_text=True)
    )
    french = viewer.get(f"{DASHBOARD}/report.pdf", headers={"Accept-Language": "fr"})
    assert french.status_code == 404
    assert "pas de format de téléchargement" in french.get_data(as_text=True)
    assert audit_rows(app) == before, "nothing was downloaded"

    result = CliRunner().invoke(
        main,
        ["report", "export", SURVEY, "--format", "pdf", "-o", str(tmp_path / "x.pdf")],
        env={"SURVEY_APP_DATABASE_URL": settings.database_url},
    )
    assert result.exit_code == 2
    assert "'pdf' is not one of 'xlsx', 'csv', 'json'" in result.output


def test_formats_and_chart_choice_need_no_web_framework() -> None:
    """The map of formats and the choice of charts are the report's own: the command line
    uses them without loading Flask or the web app."""
    code = (
        "import sys, survey_app.reports.formats, survey_app.reports.pages, "
        "survey_app.commands.report\n"
        "print(sorted(m for m in sys.modules if m.startswith(('flask', 'survey_app.web'))))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert found.stdout.strip() == "[]"
