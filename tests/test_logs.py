"""What operators see: staff requests and errors with their cause; respondents only as counts."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey_app import create_app, migrate
from survey_app.state import app_state
from tests.support.apps import Deployment, deploy, make_settings
from tests.support.cli import run
from tests.support.web import Respondent


def test_a_forged_line_in_a_path_is_escaped(client: FlaskClient, log_text: io.StringIO) -> None:
    client.get("/admin/x%0a2026-01-01 00:00:00,000 INFO survey_app.access: GET /forged 200")
    lines = log_text.getvalue().splitlines()
    assert not any(line.startswith("2026-01-01") for line in lines)
    assert any("/admin/x\\x0a2026-01-01" in line for line in lines)


def test_respondent_paths_are_cut_from_any_line_whoever_writes_it(log_text: io.StringIO) -> None:
    logging.getLogger("waitress").error("Exception while serving /s/Tok3n-abc/done/fr")
    logging.getLogger("waitress").error("oops", exc_info=ValueError("at /s/Tok3n-abc/p/2"))
    text = log_text.getvalue()
    assert "Tok3n" not in text and "/done/fr" not in text and "/s/<token>" in text
    # A traceback keeps its lines, each marked as the continuation of one record.
    assert all(line[:4] in ("  | ", "") or line[:2] == "20" for line in text.splitlines())


def test_respondent_requests_are_counted_per_day_and_shown_by_a_command(
    app: Flask, client: FlaskClient, deployment: Deployment, log_text: io.StringIO
) -> None:
    token = deployment.links["minimal"]
    done = Respondent(client, token).complete({"consent": "yes"}, {"felt_safe": "yes"})
    assert "Thank you" in done.get_data(as_text=True)
    client.get(f"/s/{token}/nowhere")
    text = log_text.getvalue()
    assert token not in text and "/s/" not in text and "/done/" not in text
    counter = app_state(app).traffic
    day, counts = counter.current()
    # One address for the whole survey: the start, both pages and the thanks are one route.
    assert counts[("POST /s/<token>", 200)] == 3
    assert counts[("GET /s/<token>", 200)] == 1
    assert counts[("GET (no such page)", 404)] == 1
    settings = app_state(app).settings
    assert "no respondent request counts" in run(settings, "traffic").output
    # The day ends: the next request stores the finished day's counts and logs one summary.
    counter.clock = lambda: "2999-01-01"
    client.get(f"/s/{token}")
    shown = run(settings, "traffic").output
    assert f"{day}\tPOST /s/<token>\t200\t3" in shown
    assert f"respondent requests on {day}: " in log_text.getvalue()
    assert counter.current() == ("2999-01-01", {("GET /s/<token>", 200): 1})


def test_staff_requests_are_logged_one_line_each(
    client: FlaskClient, log_text: io.StringIO
) -> None:
    client.get("/auth/sign-in?next=sentinel")
    lines = [line for line in log_text.getvalue().splitlines() if "survey_app.access" in line]
    assert len(lines) == 1 and " GET /auth/sign-in 200 " in lines[0]
    assert "sentinel" not in lines[0]


def test_an_unreachable_database_is_named_as_the_cause(
    tmp_path: Path, log_text: io.StringIO
) -> None:
    settings = make_settings(
        tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    )
    app = create_app(settings)
    reply = app.test_client().get("/s/SomeLinkToken")
    assert reply.status_code == 500
    errors = [line for line in log_text.getvalue().splitlines() if "ERROR" in line]
    assert any(
        "respond.landing" in line and "OperationalError: connection" in line for line in errors
    ), errors
    assert "SomeLinkToken" not in log_text.getvalue()
    app_state(app).database.dispose()


def test_a_read_only_database_is_named_as_the_cause(
    tmp_path: Path, database_url: str, log_text: io.StringIO
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("a read-only file is a SQLite matter")
    writable = create_app(make_settings(tmp_path, database_url))
    migrate.upgrade(app_state(writable).database)
    token = deploy(writable).links["minimal"]
    app_state(writable).database.dispose()
    path = database_url.removeprefix("sqlite:///")
    read_only = create_app(make_settings(tmp_path, f"sqlite:///file:{path}?mode=ro&uri=true"))
    reply = Respondent(read_only.test_client(), token).start()
    assert reply.status_code == 500
    assert "attempt to write a readonly database" in log_text.getvalue()
    assert token not in log_text.getvalue()
    app_state(read_only).database.dispose()
