"""Redaction as analysts get it: the redaction test set through the free-text page and the
microdata download, with the programme's configured names, scored against its labels."""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey_app.config import Settings
from survey_app.intake.responses import ResponseMeta, store_response
from survey_app.models import Role
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, ROOT, Deployment, make_settings
from tests.support.redaction_cases import (
    Score,
    configured_names,
    ordinary_cases,
    personal_cases,
    replaced_regions,
    score,
)
from tests.support.staff import make_account, open_session, post

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

SURVEY = "service-feedback"
DASHBOARD = f"/reports/{SURVEY}"
QUESTION = "what_should_change"
CASES = personal_cases() + ordinary_cases()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        surveys_dir=str(ROOT / "surveys"),
        reports={"redact_names": configured_names()},
    )


@pytest.fixture
def analyst(app: Flask, deployment: Deployment) -> FlaskClient:
    state = app_state(app)
    survey = state.surveys[SURVEY]
    with state.database.session() as db:
        for case in CASES:
            store_response(
                db,
                survey_id=SURVEY,
                survey_version=survey.version,
                definition=survey.canonical_json,
                answers={"consent": "yes", QUESTION: case.text},
                meta=ResponseMeta(
                    site="North", channel="self", language="en", day=date(2026, 2, 9)
                ),
                period_granularity="week",
            )
    account = make_account(
        app, "analyst", role=Role.ANALYST, programme_id=deployment.programme_id, totp=True
    )
    client = app.test_client()
    open_session(app, client, account.id)
    return client


def in_input_order(outputs: list[str]) -> list[str]:
    """Each redacted answer put back beside the answer it came from (they come shuffled)."""
    by_case: dict[str, str] = {}
    for output in outputs:
        matching = [c for c in CASES if replaced_regions(c.text, output) is not None]
        matching = [c for c in matching if c.id not in by_case]
        assert matching, f"an answer that is no redaction of any stored one: {output!r}"
        by_case[matching[0].id] = output
    assert len(by_case) == len(CASES), "answers went missing"
    return [by_case[case.id] for case in CASES]


def assert_targets(result: Score) -> None:
    for kind in result.kinds():
        if kind != "name (unlisted)":
            assert result.recall(kind) >= 0.95, (kind, result.missed)
    assert result.recall("name (unlisted)") >= 0.5, result.missed
    assert result.precision() >= 0.90, result.wrong
    assert result.ordinary_kept >= 0.95 * result.ordinary_total, result.wrong
    assert not result.unreadable


def test_free_text_page_meets_the_redaction_targets(analyst: FlaskClient) -> None:
    reply = post(
        analyst,
        f"{DASHBOARD}/free-text",
        {"passphrase": PASSPHRASE},
        page_url=f"{DASHBOARD}/free-text",
    )
    assert reply.status_code == 200
    main = reply.get_data(as_text=True).split("<main", 1)[1]
    shown = [html.unescape(a) for a in re.findall(r'<span dir="auto">([^<]*)</span>', main)]
    assert len(shown) == len(CASES)
    assert_targets(score(CASES, in_input_order(shown)))
    for leaked in ("0712 345 678", "Hélène", "مُحَمَّد", "Оксана", "14/03/1998", "AB12 CDE"):
        assert leaked not in main


def test_microdata_file_meets_the_redaction_targets(analyst: FlaskClient) -> None:
    reply = post(
        analyst,
        f"{DASHBOARD}/microdata",
        {"passphrase": PASSPHRASE},
        page_url=f"{DASHBOARD}/microdata",
    )
    assert reply.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(reply.get_data()))
    rows = list(
        csv.DictReader(io.StringIO(archive.read(f"{SURVEY}-microdata.csv").decode("utf-8-sig")))
    )
    cells = [row[QUESTION] for row in rows]
    assert len(cells) == len(CASES)
    assert_targets(score(CASES, in_input_order(cells)))
