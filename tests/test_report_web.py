"""Report pages as staff use them: an analyst refreshes, a viewer reads and downloads."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import delete, func, select, update

from survey_app.config import Settings
from survey_app.intake.responses import ResponseMeta, store_response
from survey_app.models import (
    AuditEvent,
    DistributionLink,
    InboxResponse,
    ReportSnapshot,
    Role,
    SurveyAssignment,
)
from survey_app.operations.sample_data import store_generated
from survey_app.reports import free_text
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, ROOT, Deployment, make_settings, read_back
from tests.support.staff import make_account, open_session, post
from tests.support.web import csrf_token

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

SURVEY = "service-feedback"
DASHBOARD = f"/reports/{SURVEY}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        surveys_dir=str(ROOT / "surveys"),
        reports={"redact_names": ["Marie"]},
    )


@pytest.fixture
def responses(app: Flask, deployment: Deployment) -> None:
    state = app_state(app)
    store_generated(state.database, state.surveys[SURVEY], 300, sites=("North", "South", "East"))
    store_generated(state.database, state.surveys[SURVEY], 3, seed=4, sites=("Hamlet",))


def client_as(app: Flask, deployment: Deployment, role: Role) -> FlaskClient:
    account = make_account(
        app, role.value, role=role, programme_id=deployment.programme_id, totp=True
    )
    client = app.test_client()
    open_session(app, client, account.id)
    return client


def refresh(app: Flask, deployment: Deployment) -> FlaskClient:
    analyst = client_as(app, deployment, Role.ANALYST)
    reply = post(
        analyst,
        f"{DASHBOARD}/refresh",
        {"passphrase": PASSPHRASE},
        page_url=f"{DASHBOARD}/refresh",
    )
    assert reply.status_code == 303, reply.get_data(as_text=True)
    return analyst


def test_an_analyst_refreshes_and_a_viewer_sees_the_dashboard(
    app: Flask, deployment: Deployment, responses: None
) -> None:
    analyst = refresh(app, deployment)
    page = analyst.get(DASHBOARD).get_data(as_text=True)
    assert "The report was refreshed from 303 responses." in page
    viewer = client_as(app, deployment, Role.VIEWER)
    reply = viewer.get(DASHBOARD)
    assert reply.status_code == 200
    html = reply.get_data(as_text=True)
    assert "Your views on the support you received" in html
    assert html.index("% who felt safe") < html.index("Which kinds of support")
    assert "<svg" in html and "<title id=" in html and "<desc id=" in html
    assert " style=" not in html and "<script>" not in html
    assert "Refresh report" not in html, "viewers are not offered the key"
    assert "Hamlet" not in re.sub(r"Other \(combined\)[^<]*", "", html)


def test_adjusted_counts_are_explained_on_screen_and_in_downloads(
    app: Flask, deployment: Deployment, responses: None
) -> None:
    refresh(app, deployment)
    viewer = client_as(app, deployment, Role.VIEWER)
    html = viewer.get(DASHBOARD).get_data(as_text=True)
    choices = html.split('<select id="view"', 1)[1].split("</select>", 1)[0]
    views = re.findall(r'<option value="([^"]+)"', choices)
    assert "site=North" in views and "round=2026-Q1" in views and "channel=self" in views
    assert "site=Hamlet" not in views, "a site of three people is not broken down"
    screens = [
        viewer.get(DASHBOARD, query_string={"view": v}).get_data(as_text=True) for v in views
    ]
    for screen in screens:
        assert "every count is slightly adjusted" in screen
        assert "shown only where at least 120 people answered" in screen
        numbers = [int(n) for n in re.findall(r"<td>(\d+)</td>", screen)]
        assert numbers and not any(1 <= n <= 4 for n in numbers)
    # Shares of everyone are drawn; a site of about 100 shows its counts, and its shares are not
    # shown (each count a few off could move them by more than 5 points).
    everyone, north = screens[views.index("all")], screens[views.index("site=North")]
    assert 'class="chart-bar"' in everyone
    assert 'class="chart-bar"' not in north and '<td class="suppressed">not shown' in north
    assert re.search(r"<td>\d+</td><td class=\"suppressed\">not shown", north), "count kept"

    view = "site=North"
    got = viewer.get(f"{DASHBOARD}/report.csv", query_string={"view": view})
    assert got.status_code == 200 and "attachment" in got.headers["Content-Disposition"]
    assert got.headers["Content-Type"] == "text/csv; charset=utf-8"
    cells = [c for row in csv.reader(io.StringIO(got.get_data().decode("utf-8-sig"))) for c in row]
    assert any("every count is slightly adjusted" in c for c in cells)

    got = viewer.get(f"{DASHBOARD}/report.xlsx", query_string={"view": view})
    book = load_workbook(io.BytesIO(got.get_data()))
    counts = [
        c.value
        for sheet in book.worksheets[1:]  # after the contents
        for row in sheet.iter_rows()
        for c in row
        if isinstance(c.value, int) and c.number_format != "0.0%"
    ]
    assert counts and not any(1 <= v <= 4 for v in counts)

    got = viewer.get(f"{DASHBOARD}/report.json", query_string={"view": view})
    assert got.headers["Content-Type"] == "application/json"
    document = json.loads(got.get_data(as_text=True))
    assert document["views"][0]["id"] == view

    with app_state(app).database.session() as db:
        actions = [e.action for e in db.scalars(select(AuditEvent))]
    assert actions.count("report.download") == 3
    assert actions.count("report.refresh") == 1


def test_not_asked_and_skipped_are_told_apart_as_the_answers_say(
    app: Flask, deployment: Deployment, responses: None
) -> None:
    """“Legal support useful?” is asked only of those who had legal support: everyone else is
    "not asked", those who were asked and left it blank are "skipped"."""
    truth: Counter[str] = Counter()
    for opened in read_back(app, deployment.programme_id, SURVEY):
        answers = opened.answers
        if "legal" not in (answers.get("services") or []):
            truth["_not_asked"] += 1
        elif answers.get("useful_legal") is None:
            truth["_skipped"] += 1
    assert truth["_not_asked"] >= 30 and truth["_skipped"] > 0, truth

    refresh(app, deployment)
    viewer = client_as(app, deployment, Role.VIEWER)
    document = json.loads(viewer.get(f"{DASHBOARD}/report.json").get_data(as_text=True))
    rows = document["views"][0]["tables"]["useful_legal"]["frequency"]["rows"]
    published = {row["key"]: row["counts"][0] for row in rows}
    # Adjusted counts: a few either way (a small one may be hidden), never the other row's size.
    assert abs(published["_not_asked"] - truth["_not_asked"]) <= 8, (published, truth)
    skipped = published["_skipped"]
    assert skipped is None or abs(skipped - truth["_skipped"]) <= 8, (published, truth)
    page = viewer.get(DASHBOARD).get_data(as_text=True)
    assert "“Not asked” counts people to whom the question did not apply" in page


def test_printable_page_says_how_to_print_it(
    app: Flask, deployment: Deployment, responses: None
) -> None:
    refresh(app, deployment)
    viewer = client_as(app, deployment, Role.VIEWER)
    html = viewer.get(f"{DASHBOARD}/print").get_data(as_text=True)
    assert "Print command" in html and 'class="no-print"' in html


def test_unknown_filter_is_not_found_and_nothing_to_download_before_a_refresh(
    app: Flask, deployment: Deployment, responses: None
) -> None:
    viewer = client_as(app, deployment, Role.VIEWER)
    assert "No report has been published" in viewer.get(DASHBOARD).get_data(as_text=True)
    reply = viewer.get(f"{DASHBOARD}/report.csv")
    assert reply.status_code == 302 and reply.headers["Location"].endswith(DASHBOARD)
    refresh(app, deployment)
    assert viewer.get(DASHBOARD, query_string={"view": "site=Nowhere"}).status_code == 404


def test_a_wrong_passphrase_is_a_form_error(
    app: Flask, deployment: Deployment, responses: None
) -> None:
    analyst = client_as(app, deployment, Role.ANALYST)
    reply = post(
        analyst, f"{DASHBOARD}/refresh", {"passphrase": "wrong"}, page_url=f"{DASHBOARD}/refresh"
    )
    assert reply.status_code == 422
    assert "passphrase does not open" in reply.get_data(as_text=True)


def test_a_wrong_passphrase_is_said_in_the_analysts_language(
    app: Flask, deployment: Deployment, responses: None
) -> None:
    analyst = client_as(app, deployment, Role.ANALYST)
    analyst.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    reply = post(
        analyst, f"{DASHBOARD}/refresh", {"passphrase": "wrong"}, page_url=f"{DASHBOARD}/refresh"
    )
    assert reply.status_code == 422
    page = reply.get_data(as_text=True)
    assert "la phrase secrète n&#39;ouvre aucune des clés" in page, page
    assert "does not open" not in page


def test_analyst_microdata_is_redacted_with_a_note_of_changes(
    app: Flask, deployment: Deployment, responses: None
) -> None:
    analyst = client_as(app, deployment, Role.ANALYST)
    reply = post(
        analyst,
        f"{DASHBOARD}/microdata",
        {"passphrase": PASSPHRASE},
        page_url=f"{DASHBOARD}/microdata",
    )
    assert reply.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(reply.get_data()))
    data = archive.read(f"{SURVEY}-microdata.csv").decode("utf-8-sig")
    note = archive.read("README.txt").decode("utf-8")
    assert "Marie" not in data and "[name]" in data and "+44 20 7946 0958" not in data
    assert "merged into" in note
    with app_state(app).database.session() as db:
        assert db.scalars(select(AuditEvent).where(AuditEvent.action == "report.microdata")).one()


def test_staff_who_may_see_reports_are_led_to_them(
    app: Flask, deployment: Deployment, responses: None
) -> None:
    programme_reports = f"/reports/?programme={deployment.programme_id}"
    viewer = client_as(app, deployment, Role.VIEWER)
    home = viewer.get("/staff/").get_data(as_text=True)
    assert '<a href="/reports/">Reports</a>' in home  # in the staff menu
    assert f'<a class="button secondary" href="{programme_reports}">Reports</a>' in home
    assert "Refresh reports" not in home and "Export microdata" not in home
    listing = viewer.get(programme_reports).get_data(as_text=True)
    assert f'href="{DASHBOARD}"' in listing and "/refresh" not in listing

    analyst = client_as(app, deployment, Role.ANALYST)
    home = analyst.get("/staff/").get_data(as_text=True)
    for label in ("Reports", "Refresh reports", "Read free-text answers", "Export microdata"):
        assert f'<a class="button secondary" href="{programme_reports}">{label}</a>' in home
    listing = analyst.get(programme_reports).get_data(as_text=True)
    assert f'href="{DASHBOARD}/refresh"' in listing and f'href="{DASHBOARD}/microdata"' in listing
    assert f'href="{DASHBOARD}/free-text"' in listing

    caseworker = client_as(app, deployment, Role.CASEWORKER)
    assert "/reports/" not in caseworker.get("/staff/").get_data(as_text=True)
    assert viewer.get("/reports/?programme=999").get_data(as_text=True).count(DASHBOARD) == 0


def test_a_programme_with_one_survey_links_straight_to_its_report(
    app: Flask, deployment: Deployment
) -> None:
    with app_state(app).database.session() as db:
        db.execute(delete(DistributionLink).where(DistributionLink.survey_id != SURVEY))
        db.execute(delete(SurveyAssignment).where(SurveyAssignment.id != SURVEY))
    analyst = client_as(app, deployment, Role.ANALYST)
    home = analyst.get("/staff/").get_data(as_text=True)
    assert f'<a class="button secondary" href="{DASHBOARD}">Reports</a>' in home
    assert f'<a class="button secondary" href="{DASHBOARD}/refresh">Refresh reports</a>' in home


def test_a_small_closed_round_waits_and_counts_are_said_with_the_right_plural_form(
    app: Flask, deployment: Deployment
) -> None:
    state = app_state(app)
    store_generated(state.database, state.surveys[SURVEY], 1)
    analyst = refresh(app, deployment)
    page = analyst.get(DASHBOARD).get_data(as_text=True)
    assert "The report was refreshed from 0 responses." in page
    assert "Fewer than 15 responses have been counted, so no table is shown yet" in page
    assert "is waiting to be published with the next one" in page
    store_generated(state.database, state.surveys[SURVEY], 60, seed=8)
    with state.database.session() as db:
        first, second, third = db.scalars(select(InboxResponse).order_by(InboxResponse.id).limit(3))
        db.execute(
            update(InboxResponse).where(InboxResponse.id == first.id).values(sealed=third.sealed)
        )
        db.execute(
            update(InboxResponse).where(InboxResponse.id == second.id).values(sealed=third.sealed)
        )
    arabic = {"Accept-Language": "ar"}
    page_url = f"{DASHBOARD}/refresh"
    form = analyst.get(page_url, headers=arabic).get_data(as_text=True)
    reply = analyst.post(
        page_url,
        data={"passphrase": PASSPHRASE, "csrf_token": csrf_token(form)},
        headers=arabic,
    )
    assert reply.status_code == 303
    page = analyst.get(DASHBOARD, headers=arabic).get_data(as_text=True)
    assert "تعذّر فتح إجابتين ولم تُحتسبا." in page  # the dual, not "2 responses"


def store(app: Flask, site: str, answers: dict[str, object]) -> None:
    state = app_state(app)
    survey = state.surveys[SURVEY]
    with state.database.session() as db:
        store_response(
            db,
            survey_id=SURVEY,
            survey_version=survey.version,
            definition=survey.canonical_json,
            answers={"consent": "yes", **answers},
            meta=ResponseMeta(site=site, channel="self", language="en", day=date(2026, 2, 10)),
            period_granularity="week",
        )


def read_free_text(analyst: FlaskClient, passphrase: str = PASSPHRASE) -> object:
    return post(
        analyst,
        f"{DASHBOARD}/free-text",
        {"passphrase": passphrase},
        page_url=f"{DASHBOARD}/free-text",
    )


def test_analysts_read_redacted_free_text_only_in_groups_of_k(
    app: Flask, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    changes = ["Open on Sundays", "Marie was kind, call +44 20 7946 0958", "More interpreters"]
    changes += ["Shorter queue", "A quiet room", "Bus fares paid"]
    for number, change in enumerate(changes):
        store(app, "Hamlet" if number == 0 else "North", {"what_should_change": change})
    store(app, "North", {"most_helpful": "Only two people said this"})
    store(app, "North", {"most_helpful": "A second rare answer"})
    ordered: list[list[str]] = []
    monkeypatch.setattr(free_text, "_RANDOM", SortingShuffle(ordered))
    analyst = client_as(app, deployment, Role.ANALYST)
    assert "Read free-text answers" in analyst.get(DASHBOARD).get_data(as_text=True)
    with app_state(app).database.session() as db:
        stored_before = db.scalar(select(func.count()).select_from(ReportSnapshot))

    reply = read_free_text(analyst)
    assert reply.status_code == 200  # type: ignore[attr-defined]
    page = reply.get_data(as_text=True)  # type: ignore[attr-defined]
    main = page.split("<main", 1)[1]
    shown = re.findall(r'<span dir="auto">([^<]*)</span>', main)
    redacted = "[name] was kind, call [phone]"
    assert shown == sorted([*changes[:1], redacted, *changes[2:]])  # in the shuffled order
    assert ordered and ordered[0] == shown
    assert "What should we change" in main and "6 answers" in main
    assert "Marie" not in main and "7946" not in main
    # Fewer than k answered: the question is named, its answers are not shown, nor their count.
    assert "Not shown: fewer than 5 answers" in main and "rare answer" not in main
    assert "Only two people" not in main and "2 answers" not in main
    # Nothing beside an answer: no site, period or channel.
    assert "Hamlet" not in main and "North" not in main and "2026" not in main
    with app_state(app).database.session() as db:
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "report.free-text"))
        (event,) = events
        assert event.actor == "analyst" and "Open on Sundays" not in event.detail
        assert db.scalar(select(func.count()).select_from(ReportSnapshot)) == stored_before

    wrong = read_free_text(analyst, "not the passphrase")
    assert wrong.status_code == 422  # type: ignore[attr-defined]
    assert "passphrase does not open" in wrong.get_data(as_text=True)  # type: ignore[attr-defined]
    viewer = client_as(app, deployment, Role.VIEWER)
    assert viewer.get(f"{DASHBOARD}/free-text").status_code == 403
    assert "free-text" not in viewer.get(DASHBOARD).get_data(as_text=True)


class SortingShuffle:
    """Stands in for the system's randomness: sorts, and remembers what it was given."""

    def __init__(self, seen: list[list[str]]) -> None:
        self.seen = seen

    def shuffle(self, answers: list[str]) -> None:
        answers.sort()
        self.seen.append(answers)


def test_free_text_is_in_random_order_by_default() -> None:
    assert isinstance(free_text._RANDOM, secrets.SystemRandom)
