"""The report as a programme manager reads it: scorecard first, one table per question, the
breakdowns on pages of their own, a printable version with a cover, all from the published
snapshot (checked against the JSON download of the same snapshot)."""

from __future__ import annotations

import html as html_module
import io
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from survey_app.models import AuditEvent, ReportSnapshot, Role
from survey_app.reports.stats import newcombe_difference
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, Deployment
from tests.support.staff import post
from tests.test_report_web import (
    DASHBOARD,
    client_as,
    refresh,
    responses,  # noqa: F401 (fixture)
    settings,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.usefixtures("cheap_password_hashing", "responses")

PAGE_BUDGET = 150 * 1024


def text_of(page: str) -> str:
    """The words of the page's main content, one space between them."""
    main = page.split("<main", 1)[1]
    main = re.sub(r"<svg.*?</svg>", " ", main, flags=re.S)
    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", main)))


def number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def published(viewer: FlaskClient) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(viewer.get(f"{DASHBOARD}/report.json").get_data())
    return document


def expected_sentence(
    variable: dict[str, Any], by_round: dict[str, Any], everyone: dict[str, Any]
) -> tuple[float | None, str, str]:
    """The latest value, where it is from and its sentence, worked out from the published JSON.

    A round's estimate is shown only on a base of 120 (docs/disclosure-control.md): with fewer
    than two rounds shown, the value is the latest round's or everyone's, with no change.
    """
    rounds = sorted(
        (key, estimate)
        for key, estimate in zip(by_round["columns"][1:], by_round["estimates"][1:], strict=True)
        if isinstance(estimate, dict) and not key.startswith("_")
    )
    latest = rounds[-1][1] if rounds else everyone["estimates"][0]
    where = f" in {rounds[-1][0]}" if rounds else ""
    if not isinstance(latest, dict):
        return None, where, "Too few people answered to show this safely."
    value = round(100 * latest["value"], 1)
    gap = round(value - 100 * variable["target"], 1)
    first = (
        f"Below target by {number(-gap)} points."
        if gap < 0
        else f"Target met ({number(gap)} points above it)."
    )
    if len(rounds) < 2:
        return value, where, f"{first} Too few answers in each round to show a change."
    before_key, before = rounds[-2]
    difference, lower, upper = newcombe_difference(
        before["numerator"], before["denominator"], latest["numerator"], latest["denominator"]
    )
    if lower <= 0 <= upper:
        second = f"No clear change since {before_key}."
    else:
        direction = "Up" if difference > 0 else "Down"
        second = f"{direction} {number(round(abs(100 * difference), 1))} points since {before_key}."
    return value, where, f"{first} {second}"


def test_the_summary_shows_indicators_against_targets_then_one_table_per_question(
    app: Flask, deployment: Deployment
) -> None:
    refresh(app, deployment)
    viewer = client_as(app, deployment, Role.VIEWER)
    reply = viewer.get(DASHBOARD)
    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    assert len(page.encode()) <= PAGE_BUDGET
    words = text_of(page)
    document = published(viewer)
    everyone = document["views"][0]
    indicators = [v for v in document["variables"] if v["kind"] == "indicator"]
    questions = [v for v in document["variables"] if v["kind"] != "indicator"]
    assert len(indicators) == 6
    for variable in indicators:
        by_round = next(
            t for t in everyone["tables"][variable["id"]]["crosstabs"] if t["dimension"] == "round"
        )
        frequency = everyone["tables"][variable["id"]]["frequency"]
        value, where, sentence = expected_sentence(variable, by_round, frequency)
        label = variable["label"]["en"]
        card = words.split(label, 1)[1][:600]
        assert sentence in card, (label, sentence, card)
        if value is None:
            assert card.startswith(" not shown · target ")
            continue
        assert card.startswith(f" {number(value)}%{where} · target ")
        assert "We are 95% sure the true share is between " in card
    assert words.index("Indicators against targets") < words.index("How to read this report")
    assert words.index("How to read this report") < words.index("Questions")
    assert "every count is slightly adjusted" in words
    # One chart and one table per question, over everyone: no cross-tab on the summary.
    assert page.count("<table") == len(questions)
    assert " by Site" not in words and " by Round" not in words
    assert page.count('class="chart-bar"') > 0 and "<details" not in page
    # Sections follow the survey's pages.
    assert words.index("The support you received") < words.index("Safety and respect")


def test_breakdowns_are_on_their_own_pages_one_dimension_at_a_time(
    app: Flask, deployment: Deployment
) -> None:
    refresh(app, deployment)
    viewer = client_as(app, deployment, Role.VIEWER)
    summary = viewer.get(DASHBOARD).get_data(as_text=True)
    assert f'href="{DASHBOARD}/breakdowns"' in summary
    page = viewer.get(f"{DASHBOARD}/breakdowns").get_data(as_text=True)
    links = re.findall(rf'href="{DASHBOARD}/breakdowns\?by=([^"]+)"', page)
    assert links[:3] == ["site", "round", "channel"]
    document = published(viewer)
    everyone = document["views"][0]
    for dimension in links:
        reply = viewer.get(f"{DASHBOARD}/breakdowns", query_string={"by": dimension})
        assert reply.status_code == 200
        shown = reply.get_data(as_text=True)
        assert len(shown.encode()) <= PAGE_BUDGET
        expected = sum(
            1
            for tables in everyone["tables"].values()
            for table in tables["crosstabs"]
            if table["dimension"] == dimension
        )
        assert shown.count("<table") == expected > 0
    by_round = viewer.get(f"{DASHBOARD}/breakdowns?by=round").get_data(as_text=True)
    assert "target 90%" in by_round  # the trend charts carry their target
    assert viewer.get(f"{DASHBOARD}/breakdowns?by=nowhere").status_code == 404


def test_the_printable_report_has_a_cover_the_scorecard_and_a_page_per_section(
    app: Flask, deployment: Deployment
) -> None:
    refresh(app, deployment)
    viewer = client_as(app, deployment, Role.VIEWER)
    page = viewer.get(f"{DASHBOARD}/print").get_data(as_text=True)
    words = text_of(page)
    cover = words.split("Indicators against targets", 1)[0]
    assert "shelter programme" in cover
    assert "Your views on the support you received" in cover
    assert "Period 2026-Q1 to 2026-Q3" in cover and "Responses 303 responses" in cover
    assert "Below target by" in cover  # the headlines
    assert page.count('class="print-page"') == 1 + 6 + 1  # scorecard, survey pages, annex
    assert "Annex: method and protection" in words and "<details" not in page


def test_staff_switch_the_report_language_and_every_staff_page_has_a_skip_link(
    app: Flask, deployment: Deployment
) -> None:
    refresh(app, deployment)
    viewer = client_as(app, deployment, Role.VIEWER)
    page = viewer.get(f"{DASHBOARD}/breakdowns?by=round").get_data(as_text=True)
    assert page.split("<body>", 1)[1].lstrip().startswith('<a class="skip-link" href="#main">')
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    back = f"{DASHBOARD}/breakdowns?by=round"
    reply = viewer.post(
        "/auth/language", data={"lang": "fr", "next": back, "csrf_token": token.group(1)}
    )
    assert reply.status_code == 303 and reply.headers["Location"] == back
    french = viewer.get(back).get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in french
    assert "Aller au contenu principal" in french and "Période" in french
    summary = text_of(viewer.get(DASHBOARD).get_data(as_text=True))
    assert "Indicateurs et objectifs" in summary and "Comment lire ce rapport" in summary
    assert "Nous sommes sûrs à 95% que la vraie proportion se situe entre" in summary
    assert "Your views on the support you received" not in summary  # the survey's French title
    # Elsewhere than this site, or a language the interface lacks: not followed, refused.
    reply = viewer.post(
        "/auth/language",
        data={"lang": "de", "next": "https://evil.example/", "csrf_token": token.group(1)},
    )
    assert reply.status_code == 422
    reply = viewer.post(
        "/auth/language",
        data={"lang": "es", "next": "//evil.example/", "csrf_token": token.group(1)},
    )
    assert reply.status_code == 303 and reply.headers["Location"] == "/staff/"


def test_the_workbook_has_contents_and_a_readable_sheet_per_question(
    app: Flask, deployment: Deployment
) -> None:
    refresh(app, deployment)
    viewer = client_as(app, deployment, Role.VIEWER)
    reply = viewer.get(f"{DASHBOARD}/report.xlsx")
    book = load_workbook(io.BytesIO(reply.get_data()))
    document = published(viewer)
    ordered = sorted(document["variables"], key=lambda v: v["kind"] != "indicator")
    labels = [v["label"]["en"] for v in ordered]  # indicators first, as on screen
    contents, *sheets = book.worksheets
    assert contents.title == "Contents" and len(sheets) == len(labels)
    shown = 0
    links = {
        c.value: c.hyperlink.location or c.hyperlink.target
        for row in contents.iter_rows()
        for c in row
        if c.hyperlink is not None
    }
    for sheet, label in zip(sheets, labels, strict=True):
        name = sheet.title
        assert len(name) <= 31 and not re.search(r"[\[\]:*?/\\]", name)
        assert label.startswith(name.removesuffix("…").rstrip("~0123456789")), (name, label)
        assert links[name] in (f"#'{name}'!A1", f"'{name}'!A1")
        assert sheet["A1"].value == label and sheet.freeze_panes == "B3"
        assert (sheet.column_dimensions["A"].width or 0) > 13
        cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
        assert not any(c.data_type == "f" for c in cells)
        assert not any(isinstance(c.value, str) and c.value.startswith("'") for c in cells)
        percents = [c for c in cells if c.number_format == "0.0%"]
        wrong = [
            c.value
            for c in percents
            if not (isinstance(c.value, int | float) and 0 <= c.value <= 1)
        ]
        assert wrong == [], name
        headers = [c.value for c in sheet[2]]
        if "% of those who answered" in headers:
            # A share as a percentage, or "not shown" on a base under 120.
            column = headers.index("% of those who answered") + 1
            shares = [sheet.cell(row=r, column=column) for r in range(3, 8)]
            assert all(c.number_format == "0.0%" or c.value in (None, "not shown") for c in shares)
            shown += sum(c.number_format == "0.0%" for c in shares)
    assert shown > 10, "the shares over everyone are shown"
    counts = [
        c.value
        for c in sheets[len(labels) - 1]["B"]
        if isinstance(c.value, int) and c.row > 2  # the last question's counts
    ]
    assert counts and all(c == 0 or c >= 5 for c in counts), counts


def refresh_with(
    app: Flask, deployment: Deployment, breakdowns: list[str], passphrase: str = PASSPHRASE
) -> tuple[FlaskClient, Any]:
    analyst = client_as(app, deployment, Role.ANALYST)
    page = f"{DASHBOARD}/refresh"
    reply = post(analyst, page, {"passphrase": passphrase, "breakdowns": breakdowns}, page_url=page)
    return analyst, reply


def snapshots(app: Flask) -> int:
    with app_state(app).database.session() as db:
        return len(db.scalars(select(ReportSnapshot.id)).all())


def test_breakdowns_chosen_at_the_refresh_are_shown_with_every_question(
    app: Flask, deployment: Deployment
) -> None:
    analyst, reply = refresh_with(app, deployment, ["site", "age_band"])
    assert reply.status_code == 303, reply.get_data(as_text=True)
    viewer = client_as(app, deployment, Role.VIEWER)
    page = viewer.get(DASHBOARD).get_data(as_text=True)
    assert len(page.encode()) <= PAGE_BUDGET
    document = published(viewer)
    assert document["featured_breakdowns"] == ["site", "age_band"]
    everyone = document["views"][0]
    shown = 0
    for variable in document["variables"]:
        if variable["kind"] == "indicator" or variable["id"] not in everyone["tables"]:
            continue
        label = html_module.escape(variable["label"]["en"], quote=False)
        dimensions = {t["dimension"] for t in everyone["tables"][variable["id"]]["crosstabs"]}
        for dimension, name in (("site", "Site"), ("age_band", "How old are you?")):
            caption = f"{label}, by {name}"
            if dimension in dimensions:
                assert caption in page, caption
                shown += 1
            else:
                assert caption not in page, caption
    assert shown >= 20
    # The printed report keeps to its twelve pages: the breakdowns stay on their own pages.
    printed = viewer.get(f"{DASHBOARD}/print").get_data(as_text=True)
    assert ", by Site" not in printed
    # The refresh page offers them again, ticked, for the next refresh.
    form = analyst.get(f"{DASHBOARD}/refresh").get_data(as_text=True)
    assert re.search(r'value="site"[^>]*checked|checked[^>]*value="site"', form)
    with app_state(app).database.session() as db:
        detail = db.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "report.refresh")
        ).one()
    assert detail.endswith("shown with every question: site, age_band")


def test_without_a_plan_the_report_page_shows_no_breakdown(
    app: Flask, deployment: Deployment
) -> None:
    refresh(app, deployment)
    viewer = client_as(app, deployment, Role.VIEWER)
    page = viewer.get(DASHBOARD).get_data(as_text=True)
    assert ", by Site" not in page and ", by How old are you?" not in page


@pytest.mark.parametrize(
    ("breakdowns", "message"),
    [
        (["site", "round", "channel"], "Choose at most 2 breakdowns"),
        (["nonsense"], "“nonsense” is not a breakdown of this report: choose among site"),
    ],
)
def test_a_plan_the_report_cannot_show_is_refused_before_the_key_is_used(
    app: Flask, deployment: Deployment, breakdowns: list[str], message: str
) -> None:
    before = snapshots(app)
    _, reply = refresh_with(app, deployment, breakdowns)
    assert reply.status_code == 422
    assert message in html_module.unescape(reply.get_data(as_text=True))
    assert snapshots(app) == before
    with app_state(app).database.session() as db:
        assert not db.scalars(select(AuditEvent).where(AuditEvent.action == "key.unlock")).all()
