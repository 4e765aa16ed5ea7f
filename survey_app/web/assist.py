"""Caseworker-assisted entry, and each survey on paper.

A caseworker picks a survey, the site and the survivor's language, then types the survivor's
answers into one form showing every question in the survivor's language with the caseworker's
beside it. The response is sealed like any other, marked channel "assisted"; nothing stored
names the caseworker, and the exact time stays inside the sealed blob. Afterwards the form is
empty and a neutral page follows: there is no list of entries and no way back to one.
Submissions are deliberately not audited one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from .. import auth
from ..auth import Permission
from ..definitions import Survey
from ..models import DistributionLink, Programme
from ..models import Survey as SurveyRow
from ..responses import NoCurrentKey, ResponseMeta, store_response
from ..state import app_state
from . import answering
from .access import Scope, current_user, rule
from .conditions import ConditionWords
from .errors import render_error
from .i18n import page_language, text_direction, ui_language_for

blueprint = Blueprint("assist", __name__)

Page = str | tuple[str, int] | BaseResponse


@dataclass(frozen=True)
class Choosable:
    programme: Programme
    surveys: list[Survey]


@dataclass
class Entry:
    """What the caseworker typed, read page by page with the survey's skip logic."""

    answers: dict[str, Any]
    raw: dict[str, list[str]]
    errors: dict[str, str]
    declined: bool


@blueprint.get("/staff/assist")
@rule(Permission.ENTER_RESPONSES, Scope.ANY_PROGRAMME)
def choose() -> str:
    user = current_user()
    catalogue = app_state().surveys
    only = request.args.get("programme", type=int)
    with app_state().database.session() as db:
        programmes = auth.programmes_where(db, user, Permission.ENTER_RESPONSES)
        options = []
        for programme in programmes:
            if only is not None and programme.id != only:
                continue
            ids = db.scalars(
                select(SurveyRow.id)
                .where(SurveyRow.programme_id == programme.id)
                .order_by(SurveyRow.id)
            )
            options.append(Choosable(programme, [catalogue[i] for i in ids if i in catalogue]))
    return render_template("assist/choose.html", options=options)


@blueprint.get("/staff/assist/<survey_id>")
@rule(Permission.ENTER_RESPONSES, Scope.SURVEY)
def setup(survey_id: str) -> Page:
    survey = _catalogued(survey_id)
    return _setup_page(survey, {}, 200)


def _setup_page(survey: Survey, errors: dict[str, str], status: int) -> tuple[str, int]:
    return render_template(
        "assist/setup.html",
        survey=survey,
        sites=_sites(survey.id),
        chosen_site=request.args.get("site", ""),
        chosen_lang=request.args.get("lang", survey.default_language),
        errors=errors,
    ), status


@blueprint.route("/staff/assist/<survey_id>/entry", methods=["GET", "POST"])
@rule(Permission.ENTER_RESPONSES, Scope.SURVEY)
def entry(survey_id: str) -> Page:
    survey = _catalogued(survey_id)
    site, lang = request.args.get("site", ""), request.args.get("lang", "")
    problems = _check_choices(survey, site, lang)
    if problems:
        return _setup_page(survey, problems, 422)
    if request.method == "GET":
        return _entry_page(survey, site, lang, Entry({}, {}, {}, declined=False), 200)
    typed = read_entry(survey, request.form, app_state().settings.respondent.max_text_length)
    if typed.errors:
        return _entry_page(survey, site, lang, typed, 422)
    if not typed.declined:
        try:
            _store(survey, site, lang, typed.answers)
        except NoCurrentKey as error:
            return render_error(409, str(error))
    outcome = "declined" if typed.declined else "saved"
    return redirect(
        url_for("assist.next_entry", survey_id=survey_id, site=site, lang=lang, outcome=outcome),
        303,
    )


@blueprint.get("/staff/assist/<survey_id>/next")
@rule(Permission.ENTER_RESPONSES, Scope.SURVEY)
def next_entry(survey_id: str) -> str:
    survey = _catalogued(survey_id)
    return render_template(
        "assist/next.html",
        survey=survey,
        site=request.args.get("site", ""),
        lang=request.args.get("lang", survey.default_language),
        declined=request.args.get("outcome") == "declined",
    )


@blueprint.get("/staff/surveys/<survey_id>/paper")
@rule(Permission.ENTER_RESPONSES, Scope.SURVEY)
def paper(survey_id: str) -> str:
    survey = _catalogued(survey_id)
    lang = survey.language(request.args.get("lang")).code
    return render_template(
        "assist/paper.html",
        survey=survey,
        lang=lang,
        lang_dir=text_direction(lang),
        words=_builtin_words(lang),
        conditions=ConditionWords.for_page(survey, lang, page_language()),
    )


def read_entry(survey: Survey, form: MultiDict[str, str], max_text: int) -> Entry:
    """Every page read in order, so each page's skip logic sees the answers before it."""
    answers: dict[str, Any] = {}
    raw: dict[str, list[str]] = {}
    errors: dict[str, str] = {}
    declined = False
    for page in survey.pages:
        if page.relevant is not None and not page.relevant.is_true(answers):
            continue
        submitted = answering.read_page(survey, page, form, answers, max_text)
        answering.merge(survey, page, answers, submitted.values)
        raw.update(submitted.raw)
        errors.update(submitted.errors)
        if answering.declined_consent(page, answers):
            declined = True
            break
    return Entry(answering.final_answers(survey, answers), raw, errors, declined)


def _store(survey: Survey, site: str, lang: str, answers: dict[str, Any]) -> None:
    settings = app_state().settings
    with app_state().database.session() as db:
        store_response(
            db,
            survey_id=survey.id,
            survey_version=survey.version,
            definition=survey.canonical_json,
            answers=answers,
            meta=ResponseMeta(
                site=site, channel="assisted", language=lang, day=datetime.now(UTC).date()
            ),
            period_granularity=settings.privacy.period,
        )


def _entry_page(survey: Survey, site: str, lang: str, typed: Entry, status: int) -> tuple[str, int]:
    staff_lang = page_language()
    return render_template(
        "assist/entry.html",
        survey=survey,
        site=site,
        lang=lang,
        lang_dir=text_direction(lang),
        staff_lang=staff_lang,
        values=typed.raw,
        errors=typed.errors,
        words=_builtin_words(lang),
        staff_words=_builtin_words(None),
        max_text=app_state().settings.respondent.max_text_length,
        conditions=ConditionWords(survey, staff_lang),
    ), status


def _builtin_words(lang: str | None) -> dict[str, str]:
    """The app's own option labels in `lang` (None: the caseworker's interface language)."""

    def words() -> dict[str, str]:
        return {
            "yes": _("Yes"),
            "no": _("No"),
            "agree": _("Yes, I agree"),
            "disagree": _("No, I do not want to take part"),
            "pnts": _("Prefer not to say"),
            "other": _("Other"),
            "other_text": _("If other, please say what"),
            "required": _("required"),
            "site": _("Site:"),
            "tick_all": _("Tick all that apply."),
        }

    if lang is None:
        return words()
    with force_locale(ui_language_for(lang)):
        return words()


def _catalogued(survey_id: str) -> Survey:
    survey = app_state().surveys.get(survey_id)
    if survey is None:
        abort(404)
    return survey


def _sites(survey_id: str) -> list[str]:
    with app_state().database.session() as db:
        return list(
            db.scalars(
                select(DistributionLink.site)
                .where(DistributionLink.survey_id == survey_id)
                .distinct()
                .order_by(DistributionLink.site)
            )
        )


def _check_choices(survey: Survey, site: str, lang: str) -> dict[str, str]:
    problems = {}
    if site not in _sites(survey.id):
        problems["site"] = _("Choose the site where this interview takes place.")
    if lang not in survey.language_codes:
        problems["lang"] = _("Choose the language the survivor answers in.")
    return problems
