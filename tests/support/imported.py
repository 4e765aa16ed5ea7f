"""An imported XLSForm served by a fresh app: the path a programme takes from workbook to phone."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from survey_app import create_app
from survey_app.definitions.xlsform import ImportResult, write_import
from survey_app.state import app_state
from tests.support.apps import deploy, make_settings

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def serve_import(result: ImportResult, tmp_path: Path, database_url: str) -> Flask:
    """An app whose only survey is `result`, written into its own surveys folder."""
    folder = tmp_path / "imported-surveys"
    write_import(result, folder, overwrite=True)
    return create_app(make_settings(tmp_path, database_url, surveys_dir=str(folder)))


def first_page(
    app: Flask, survey_id: str, lang: str | None = None, links: dict[str, str] | None = None
) -> tuple[int, str]:
    """Status and HTML of the survey's first page, reached as a respondent reaches it through
    a link (`links`: survey id -> token of an earlier deployment; else the app is deployed)."""
    links = links or deploy(app).links
    client = app.test_client()
    token = links[survey_id]
    landing = client.get(f"/s/{token}")
    if landing.status_code != 200:
        return landing.status_code, landing.get_data(as_text=True)
    html = landing.get_data(as_text=True)
    match = CSRF.search(html)
    if match is None:
        return 500, html
    language = lang or app_state(app).surveys[survey_id].default_language
    reply = client.post(f"/s/{token}", data={"lang": language, "csrf_token": match.group(1)})
    return reply.status_code, reply.get_data(as_text=True)
