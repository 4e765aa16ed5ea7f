"""The "What you told us" page: chosen by an analyst, read by the people who answered.

The public page is reached from a survey's landing and thank-you pages (`/s/<token>/results`)
and has their safety: the neutral title, quick exit and help box, nothing from elsewhere, no
cookie. It reads only published reports (see `survey_app.reports.results_page`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse
from wtforms import BooleanField

from ..models import Programme
from ..reports import results_page
from ..reports.results_page import ChosenResult, Finding, LabelsFor, ResultRef, ShownResult
from ..reports.summary import number
from ..staff.auth import Permission
from ..state import app_state
from .access import Scope, actor, rule
from .forms import StaffForm
from .i18n import text_direction
from .served_links import find_link

blueprint = Blueprint("results_page", __name__)

Page = str | tuple[str, int] | BaseResponse


@blueprint.after_request
def _not_kept(response: BaseResponse) -> BaseResponse:
    response.headers["Cache-Control"] = "no-store, max-age=0"
    return response


# --- the public page ----------------------------------------------------------------------


@dataclass(frozen=True)
class LanguageLink:
    code: str
    name: str
    direction: str
    current: bool


@blueprint.get("/s/<token>/results")
@rule(public=True)
def public_page(token: str) -> Page:
    state = app_state()
    with state.database.session() as db:
        link = find_link(db, token)
        if link is None or not link.active or not link.programme.results_page:
            abort(404)
        g.programme = link.programme
        survey = state.surveys.get(link.survey_id)
        if survey is None:
            abort(404)
        language = request.args.get("lang", survey.default_language)
        if language not in survey.language_codes:
            language = survey.default_language
        g.language = language
        shown = results_page.shown_results(db, link.programme.id, language, LabelsFor(language, _))
    languages = [
        LanguageLink(choice.code, choice.name, choice.direction, choice.code == language)
        for choice in survey.languages
    ]
    return render_template(
        "respond/results.html",
        token=token,
        results=[_public(result) for result in shown],
        languages=languages if len(languages) > 1 else [],
        programme=link.programme,
        survey=survey,
    )


@dataclass(frozen=True)
class PublicResult:
    question: str
    answer: str | None
    percent: str
    action: str
    action_language: str
    action_direction: str
    translated: bool


def _public(result: ShownResult) -> PublicResult:
    return PublicResult(
        result.question,
        result.answer,
        number(result.percent),
        result.action,
        result.action_language,
        text_direction(result.action_language),
        result.translated,
    )


# --- the analyst's page ----------------------------------------------------------------


class ResultsPageForm(StaffForm):
    publish = BooleanField(_l("Publish the page for the people who answered"))


@dataclass(frozen=True)
class Slot:
    number: int
    chosen: str  # the token of the result chosen, or ""
    actions: dict[str, str]


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    direction: str


@blueprint.route("/reports/programmes/<int:programme_id>/results-page", methods=["GET", "POST"])
@rule(Permission.REFRESH_REPORTS, Scope.PROGRAMME)
def edit(programme_id: int) -> Page:
    form = ResultsPageForm()
    labels_for = LabelsFor(str(get_locale() or "en"), _)
    with app_state().database.session() as db:
        programme = db.get(Programme, programme_id)
        if programme is None:
            abort(404)
        offered = results_page.available(db, programme_id)
        languages = _languages(offered.values())
        if form.validate_on_submit():
            chosen = _chosen(request.form, [language.code for language in languages])
            try:
                results_page.save(
                    db,
                    actor(),
                    programme,
                    chosen,
                    publish=bool(form.publish.data),
                    labels_for=labels_for,
                )
            except results_page.ResultsPageError as error:
                form.add_error("", error)
            else:
                if form.publish.data:
                    flash(_("The page is published with %(count)d results.", count=len(chosen)))
                else:
                    flash(_("Saved. The page is not public."))
                return redirect(url_for("results_page.edit", programme_id=programme_id), 303)
        else:
            chosen = results_page.chosen_results(db, programme_id)
            if not form.is_submitted():
                form.publish.data = programme.results_page_published
        name = programme.name
        published = programme.results_page_published
    options = [
        (ref.token(), _option_label(finding, labels_for)) for ref, finding in offered.items()
    ]
    slots = [
        Slot(
            slot,
            chosen[slot - 1].ref.token() if slot <= len(chosen) else "",
            dict(chosen[slot - 1].action) if slot <= len(chosen) else {},
        )
        for slot in range(1, results_page.MAX_RESULTS + 1)
    ]
    status = 422 if form.is_submitted() and form.form_errors else 200
    return render_template(
        "reports/results_page.html",
        form=form,
        programme_id=programme_id,
        programme_name=name,
        published=published,
        options=options,
        slots=slots,
        languages=languages,
        least=results_page.MIN_RESULTS,
    ), status


def _chosen(form: MultiDict[str, str], languages: list[str]) -> list[ChosenResult]:
    """The results in the order of the slots; an empty slot is left out. A value that is not a
    result of the list is kept as an unknown result, so that saving refuses it."""
    chosen = []
    for slot in range(1, results_page.MAX_RESULTS + 1):
        token = form.get(f"result-{slot}", "")
        if not token:
            continue
        ref = ResultRef.from_token(token) or ResultRef("", "", token[:200])
        actions = {code: form.get(f"action-{slot}-{code}", "") for code in languages}
        chosen.append(ChosenResult(ref, actions))
    return chosen


def _option_label(finding: Finding, labels_for: LabelsFor) -> str:
    labels = labels_for(finding.document)
    answer = finding.answer(labels)
    result = f"{finding.question(labels)}: {answer}" if answer else finding.question(labels)
    return f"{labels.title()} · {result} ({number(finding.percent)}%)"


def _languages(findings: Iterable[Finding]) -> list[Language]:
    """Every language of the surveys whose results are offered, each survey's main one first."""
    state = app_state()
    found: dict[str, Language] = {}
    seen_surveys: set[str] = set()
    for finding in findings:
        survey_id = finding.ref.survey_id
        if survey_id in seen_surveys:
            continue
        seen_surveys.add(survey_id)
        survey = state.surveys.get(survey_id)
        names = {choice.code: choice.name for choice in survey.languages} if survey else {}
        for code in (finding.default_language, *finding.languages):
            if code not in found:
                found[code] = Language(code, names.get(code, code), text_direction(code))
    return list(found.values())
