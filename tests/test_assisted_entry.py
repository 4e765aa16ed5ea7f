"""Caseworker-assisted entry: sealed as channel "assisted", nothing left to list or reopen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey_app import create_app, migrate
from survey_app.intake.responses import OpenedResponse, open_responses, wrapped_keys
from survey_app.keys import sealing
from survey_app.models import AuditEvent, InboxResponse, Programme, Role
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, ROOT, Deployment, deploy, make_settings
from tests.support.assisted import Interview
from tests.support.staff import make_account, open_session

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

ENTRY = "/staff/assist/minimal/entry"


@pytest.fixture
def caseworker(app: Flask, client: FlaskClient, deployment: Deployment) -> FlaskClient:
    account = make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    open_session(app, client, account.id)
    return client


@pytest.fixture
def examples(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    """An app serving the example surveys (every question type, skip logic), deployed."""
    example_app = create_app(
        make_settings(tmp_path, database_url, surveys_dir=str(ROOT / "surveys"))
    )
    migrate.upgrade(app_state(example_app).database)
    deploy(example_app)
    yield example_app
    app_state(example_app).database.dispose()


def caseworker_of(app: Flask) -> FlaskClient:
    with app_state(app).database.session() as db:
        programme_id = db.scalars(select(Programme.id)).one()
    account = make_account(app, "casey", role=Role.CASEWORKER, programme_id=programme_id)
    client = app.test_client()
    open_session(app, client, account.id)
    return client


def text(reply: Any) -> str:
    return str(reply.get_data(as_text=True))


def enter(client: FlaskClient, answers: dict[str, str], lang: str = "ar") -> Any:
    """The minimal survey's two sections: consent, then the rest; saved from the review."""
    views = {k: v for k, v in answers.items() if k != "consent"}
    return Interview(client, "minimal").enter({"consent": answers["consent"]}, views, lang=lang)


def first_section(client: FlaskClient, survey_id: str, lang: str, staff_lang: str = "en") -> str:
    """The first section of an interview just started, the caseworker reading `staff_lang`."""
    interview = Interview(client, survey_id, headers={"Accept-Language": staff_lang})
    assert interview.start(lang).status_code == 200
    return interview.html


def opened(app: Flask, deployment: Deployment) -> list[OpenedResponse]:
    with (
        app_state(app).database.session() as db,
        sealing.UnlockedKeys.unlock(wrapped_keys(db, deployment.programme_id), PASSPHRASE) as keys,
    ):
        found = list(open_responses(db, "minimal", keys))
    assert all(isinstance(item, OpenedResponse) for item in found)
    return [item for item in found if isinstance(item, OpenedResponse)]


def stored(app: Flask) -> int:
    with app_state(app).database.session() as db:
        return int(db.scalar(select(func.count()).select_from(InboxResponse)) or 0)


def test_choosing_a_survey_site_and_language(caseworker: FlaskClient) -> None:
    listing = caseworker.get("/staff/assist")
    assert "/staff/assist/minimal" in text(listing)
    setup = caseworker.get("/staff/assist/minimal")
    assert setup.status_code == 200
    assert '<option value="North">North</option>' in text(setup)
    assert 'value="ar"' in text(setup) and 'value="en"' in text(setup)


def test_unknown_site_or_language_is_asked_again(caseworker: FlaskClient) -> None:
    reply = Interview(caseworker, "minimal", site="Elsewhere").start("xx")
    assert reply.status_code == 422
    assert "Choose the site where this interview takes place." in text(reply)
    assert "Choose the language the survivor answers in." in text(reply)


def test_questions_in_the_survivors_language_with_the_caseworkers_beside(
    caseworker: FlaskClient,
) -> None:
    interview = Interview(caseworker, "minimal", headers={"Accept-Language": "en"})
    interview.start("ar")
    interview.answer(1, {"consent": "yes"})
    page = interview.html
    assert '<span lang="ar">هل شعرت بالأمان؟</span>' in page
    assert '<span class="staff-text" lang="en" dir="auto">Did you feel safe?</span>' in page
    assert 'dir="rtl"' in page


def test_entry_is_sealed_as_assisted_and_the_form_is_cleared(
    app: Flask, caseworker: FlaskClient, deployment: Deployment
) -> None:
    reply = enter(
        caseworker, {"consent": "yes", "felt_safe": "partly", "age": "41", "comment": "Kind staff"}
    )
    assert reply.status_code == 303
    assert "/staff/assist/minimal/next?" in reply.headers["Location"]
    following = caseworker.get(reply.headers["Location"])
    body = text(following)
    assert "Saved" in body and "Kind staff" not in body and "41<" not in body
    following_interview = Interview(caseworker, "minimal")
    following_interview.start("ar")
    following_interview.answer(1, {"consent": "yes"})
    blank = following_interview.html
    assert (
        "Kind staff" not in blank
        and 'value="41"' not in blank
        and not re.search(r"\schecked[\s>]", blank)
    )
    (response,) = opened(app, deployment)
    assert response.answers == {
        "consent": "yes",
        "felt_safe": "partly",
        "age": 41,
        "comment": "Kind staff",
    }
    assert response.meta.channel == "assisted"
    assert response.meta.site == "North" and response.meta.language == "ar"


def test_nothing_about_the_submission_or_the_caseworker_is_kept_in_the_clear(
    app: Flask, caseworker: FlaskClient
) -> None:
    before = _audit_rows(app)
    enter(caseworker, {"consent": "yes", "felt_safe": "yes"})
    assert _audit_rows(app) == before  # no audit row per submission
    with app_state(app).database.session() as db:
        row = db.scalars(select(InboxResponse)).one()
        assert b"casey" not in row.sealed
        clear = " ".join(str(v) for v in (row.id, row.survey_id, row.period, row.key_id))
        assert "casey" not in clear and "North" not in clear


def _audit_rows(app: Flask) -> int:
    with app_state(app).database.session() as db:
        return int(db.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_invalid_answers_are_shown_again_and_nothing_is_stored(
    app: Flask, caseworker: FlaskClient
) -> None:
    interview = Interview(caseworker, "minimal")
    interview.start("ar")
    interview.answer(1, {"consent": "yes"})
    reply = interview.answer(2, {"age": "7", "comment": "keep me"})
    assert reply.status_code == 422 and interview.section == "2"
    body = text(reply)
    assert 'class="error-summary"' in body and 'href="#q-age"' in body
    assert "keep me" in body  # what was typed stays on the page to be corrected
    assert stored(app) == 0


def test_declined_consent_stores_nothing(app: Flask, caseworker: FlaskClient) -> None:
    interview = Interview(caseworker, "minimal")
    interview.start("ar")
    reply = interview.answer(1, {"consent": "no"})
    assert reply.status_code == 303
    assert "Nothing was stored" in text(caseworker.get(reply.headers["Location"]))
    assert stored(app) == 0


def test_there_is_no_way_to_list_or_reopen_entries(app: Flask, caseworker: FlaskClient) -> None:
    enter(caseworker, {"consent": "yes", "felt_safe": "no"})
    assist_routes = [r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("assist.")]
    assert sorted(assist_routes) == [
        "/staff/assist",
        "/staff/assist/<survey_id>",
        "/staff/assist/<survey_id>/entry",  # GET: the setup page again
        "/staff/assist/<survey_id>/entry",  # POST: every page of an interview
        "/staff/assist/<survey_id>/next",
        "/staff/surveys/<survey_id>/paper",
    ]
    with app_state(app).database.session() as db:
        response_id = db.scalars(select(InboxResponse.id)).one()
    for url in ("/staff/assist", "/staff/", ENTRY):
        assert response_id not in text(caseworker.get(url))


def test_paper_version_in_the_chosen_language(caseworker: FlaskClient) -> None:
    page = caseworker.get("/staff/surveys/minimal/paper?lang=ar")
    assert page.status_code == 200
    body = text(page)
    assert "هل شعرت بالأمان؟" in body and "جزئيا" in body
    assert body.count("&#9744;") >= 6  # a box for each option
    english = text(caseworker.get("/staff/surveys/minimal/paper"))
    assert "Did you feel safe?" in english and "Prefer not to say" in english


def test_viewers_cannot_enter_answers(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    viewer = make_account(app, "vera", role=Role.VIEWER, programme_id=deployment.programme_id)
    open_session(app, client, viewer.id)
    assert client.get(ENTRY).status_code == 403
    assert client.post(ENTRY, data={"consent": "yes"}).status_code in (400, 403)
    assert stored(app) == 0


ENTRY_FORM = re.compile(r'<form method="post" action="/staff/assist/[^"]*/entry[^"]*"[^>]*>')
FIELD = re.compile(r"<(?:input|textarea|select)\b[^>]*>")


def walk(interview: Interview, first: dict[str, str], lang: str = "en") -> list[str]:
    """Every section of an interview, in order, leaving all but the first section's answers
    empty; the pages shown, up to the review."""
    assert interview.start(lang).status_code == 200
    pages = [interview.html]
    reply = interview.send(first)
    while interview.section != "review":
        assert reply.status_code == 200, (reply.status_code, interview.section)
        pages.append(interview.html)
        reply = interview.send()
    return pages


@pytest.mark.parametrize("survey_id", ["service-feedback", "reintegration-checkin"])
def test_the_browser_may_not_restore_or_suggest_a_previous_survivors_answers(
    examples: Flask, survey_id: str
) -> None:
    interview = Interview(caseworker_of(examples), survey_id)
    pages = walk(interview, {"consent": "yes"})
    fields = []
    for page in pages:
        (form,) = ENTRY_FORM.findall(page)
        assert 'autocomplete="off"' in form
        fields += [f for f in FIELD.findall(page) if 'type="hidden"' not in f]
    assert any('type="radio"' in f for f in fields) and any('type="checkbox"' in f for f in fields)
    assert [f for f in fields if 'autocomplete="off"' not in f] == []


def test_saving_redirects_so_back_does_not_show_the_filled_form(
    caseworker: FlaskClient,
) -> None:
    reply = enter(caseworker, {"consent": "yes", "felt_safe": "no", "comment": "Back button"})
    assert reply.status_code == 303  # POST, redirect, GET: no filled form in the history
    following = caseworker.get(reply.headers["Location"])
    assert following.status_code == 200 and following.request.method == "GET"
    body = text(following)
    assert "Back button" not in body and 'name="draft"' not in body and "<textarea" not in body


def test_paper_form_says_when_a_question_applies_in_words(examples: Flask) -> None:
    caseworker = caseworker_of(examples)
    english = text(caseworker.get("/staff/surveys/service-feedback/paper"))
    assert (
        "Only if “<bdi>Legal advice or help with legal procedures</bdi>” was chosen in "
        "“<bdi>Which kinds of support have you received from us?</bdi>”." in english
    )
    assert (
        "Only if the answer to “<bdi>Did you need an interpreter at any time?</bdi>” is "
        "“<bdi>Yes</bdi>”." in english
    )
    # count-selected(...) > 0 is not a simple condition: a general sentence instead.
    assert "Only if it applies (see the questions above)." in english
    arabic = text(caseworker.get("/staff/surveys/service-feedback/paper?lang=ar"))
    assert (
        "فقط إذا تم اختيار «<bdi>رعاية طبية</bdi>» في «<bdi>ما أنواع الدعم التي تلقيتها منا؟</bdi>»."
        in arabic
    )
    french = text(caseworker.get("/staff/surveys/reintegration-checkin/paper?lang=fr"))
    assert (
        "Seulement si la réponse à «\u00a0<bdi>Où vivez-vous en ce moment ?</bdi>\u00a0» n&#39;est pas"
        in french
    )
    for page in (english, arabic, french):
        assert "${" not in page and "selected(" not in page


def test_assisted_entry_says_when_to_ask_in_the_caseworkers_language(examples: Flask) -> None:
    """A question whose condition depends on its own section is shown with the condition in
    words; conditions on earlier sections were applied already and are not repeated."""
    interview = Interview(caseworker_of(examples), "service-feedback", headers=FRENCH)
    pages = walk(interview, {"consent": "yes"}, lang="ar")
    language = next(p for p in pages if 'id="q-interpreter_available"' in p)
    assert (
        "À poser seulement si la réponse à «\u00a0<bdi>Avez-vous eu besoin d&#39;un interprète"
        in language
    )
    for page in pages:
        assert "Poser cette partie seulement" not in page
        assert "${" not in page and "selected(" not in page


FRENCH = {"Accept-Language": "fr"}


def test_skip_logic_across_sections_is_the_respondents(examples: Flask) -> None:
    caseworker = caseworker_of(examples)
    interview = Interview(caseworker, "service-feedback")
    interview.start("en")
    interview.answer(1, {"consent": "yes"})
    interview.answer(2, {"services": ["medical", "shelter"]})
    # Only the questions about the help received are asked.
    assert interview.section == "3"
    assert 'id="q-useful_medical"' in interview.html and 'id="q-useful_shelter"' in interview.html
    assert 'id="q-useful_legal"' not in interview.html
    interview.send(action="back")
    interview.answer(2, {})  # no help received: the next section does not apply
    assert interview.section == "4"
    sections = interview.html.split('id="sections"')[1]
    assert re.search(
        r"How useful[^<]*</span>\s*<span class=\"section-state\">Does not apply", sections
    )
    assert 'value="section-3"' not in sections  # a section that does not apply cannot be opened


CONDITIONS_SURVEY = """
format = 1

[survey]
id = "conditions"
title = { en = "Conditions" }
default_language = "en"
languages = ["en"]

[[pages]]
id = "only"

[[pages.questions]]
id = "a"
type = "yesno"
label = { en = "Were you helped?" }

[[pages.questions]]
id = "b"
type = "multiple"
label = { en = "Which help?" }
choices = [{ value = "x", label = { en = "Food" } }, { value = "y", label = { en = "Bed" } }]

[[pages.questions]]
id = "t"
type = "text"
label = { en = "Anything else?" }

[[pages.questions]]
id = "c"
type = "text"
label = { en = "C" }
relevant = "not(${a} = 'yes') and (selected(${b}, 'x') or selected(${b}, 'y'))"

[[pages.questions]]
id = "d"
type = "text"
label = { en = "D" }
relevant = "not(selected(${b}, 'x') and ${a} != 'no')"

[[pages.questions]]
id = "e"
type = "text"
label = { en = "E" }
relevant = "${t} = ''"

[[pages.questions]]
id = "f"
type = "text"
label = { en = "F" }
relevant = "string-length(${t}) > 3"
"""


def test_combined_conditions_read_as_one_sentence(tmp_path: Path, database_url: str) -> None:
    surveys = tmp_path / "surveys"
    surveys.mkdir()
    (surveys / "conditions.toml").write_text(CONDITIONS_SURVEY, encoding="utf-8")
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(surveys)))
    migrate.upgrade(app_state(app).database)
    try:
        deploy(app)
        page = text(caseworker_of(app).get("/staff/surveys/conditions/paper"))
    finally:
        app_state(app).database.dispose()
    conditions = [
        re.sub(r"</?bdi>", "", found)
        for found in re.findall(r'<p class="hint condition"[^>]*>(.*?)</p>', page)
    ]
    assert conditions == [
        "Only if the answer to “Were you helped?” is not “Yes” and (“Food” was chosen in "
        "“Which help?” or “Bed” was chosen in “Which help?”).",
        "Only if “Food” was not chosen in “Which help?” or the answer to “Were you helped?” "
        "is “No”.",
        "Only if “Anything else?” was not answered.",
        "Only if it applies (see the questions above).",
    ]


def test_paper_form_speaks_the_survivors_language_around_the_questions(examples: Flask) -> None:
    caseworker = caseworker_of(examples)
    url = "/staff/surveys/service-feedback/paper"
    english = text(caseworker.get(url, headers={"Accept-Language": "en"}))
    assert "Site:" in english and "Tick all that apply." in english
    # The caseworker reads English; the form is printed for a survivor who reads Arabic.
    arabic = text(caseworker.get(f"{url}?lang=ar", headers={"Accept-Language": "en"}))
    paper = arabic.split('<article class="paper"')[1]
    assert "الموقع:" in paper and "يمكن اختيار أكثر من إجابة." in paper
    assert "Site:" not in paper and "Tick all that apply." not in paper
    # The language switch names each language in its own script, isolated from the English.
    assert '<a href="/staff/surveys/service-feedback/paper?lang=ar" lang="ar" dir="auto"' in arabic
    french = text(caseworker.get(f"{url}?lang=fr", headers={"Accept-Language": "ar"}))
    paper = french.split('<article class="paper"')[1]
    assert "Site\u00a0:" in paper and "Cochez toutes les réponses qui conviennent." in paper


def test_site_and_language_names_are_isolated_from_the_sentence_around_them(
    examples: Flask,
) -> None:
    caseworker = caseworker_of(examples)
    page = first_section(caseworker, "service-feedback", "ar", "en")
    # An Arabic name inside an English sentence must not reorder the words around it.
    assert 'Site: <bdi>North</bdi>. Language: <bdi lang="ar">العربية</bdi>.' in page
    french = first_section(caseworker, "service-feedback", "ar", "fr")
    assert 'Langue\u00a0: <bdi lang="ar">العربية</bdi>.' in french


MIXED_SURVEY = """
format = 1

[survey]
id = "mixed"
title = { en = "Mixed", ar = "مختلط" }
default_language = "en"
languages = ["en", "ar"]

[[pages]]
id = "only"

[[pages.questions]]
id = "service"
type = "single"
label = { en = "Which service?", ar = "أي خدمة؟" }
choices = [
  { value = "legal", label = { en = "Legal aid <i>" } },
  { value = "aman", label = { en = "دار الأمان", ar = "دار الأمان" } },
]

[[pages.questions]]
id = "lawyer"
type = "text"
label = { en = "Lawyer's name", ar = "اسم المحامي" }
relevant = "selected(${service}, 'legal')"

[[pages.questions]]
id = "stay"
type = "integer"
label = { en = "Nights stayed", ar = "عدد الليالي" }
relevant = "${service} = 'aman'"
"""

QUOTED = re.compile(r"[“«]\u00a0?(.*?)\u00a0?[”»]")


def _mixed_app(tmp_path: Path, database_url: str) -> Flask:
    surveys = tmp_path / "surveys"
    surveys.mkdir()
    (surveys / "mixed.toml").write_text(MIXED_SURVEY, encoding="utf-8")
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(surveys)))
    migrate.upgrade(app_state(app).database)
    deploy(app)
    return app


def condition_sentences(page: str) -> list[str]:
    return re.findall(r'class="(?:hint )?condition"[^>]*>(.*?)</(?:p|span)>', page)


def test_labels_inside_condition_sentences_are_isolated_from_their_direction(
    tmp_path: Path, database_url: str
) -> None:
    app = _mixed_app(tmp_path, database_url)
    try:
        caseworker = caseworker_of(app)
        # An Arabic sentence around an English label (the choice has no Arabic translation).
        arabic = text(caseworker.get("/staff/surveys/mixed/paper?lang=ar"))
        assert "«<bdi>Legal aid &lt;i&gt;</bdi>»" in arabic and "<i>" not in arabic
        # An English sentence around an Arabic name.
        english = text(caseworker.get("/staff/surveys/mixed/paper?lang=en"))
        assert "is “<bdi>دار الأمان</bdi>”." in english
        pages = [arabic, english]
        pages += [first_section(caseworker, "mixed", "ar", "en")]
        pages += [first_section(caseworker, "mixed", "en", "ar")]
    finally:
        app_state(app).database.dispose()
    for page in pages:
        sentences = condition_sentences(page)
        assert len(sentences) == 2
        labels = [label for sentence in sentences for label in QUOTED.findall(sentence)]
        assert len(labels) == 4
        assert [label for label in labels if not re.fullmatch(r"<bdi>[^<]*</bdi>", label)] == []
