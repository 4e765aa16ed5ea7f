"""Staff try a survey as a respondent sees it, and nothing is stored.

The pages are the respondent's own templates, marked as a preview on every page. What the
staff member types is kept only in their own signed session cookie between pages (never in a
draft row), is never sealed, and is forgotten at the end, at a restart or on the quick exit.
Nothing here opens a database transaction that writes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from ..definitions import Survey
from ..definitions.piping import with_answers
from ..intake.drafts import DraftState
from ..models import Programme, SurveyAssignment
from ..staff.auth import Permission
from ..state import app_state
from . import answering, stepping
from .access import Scope, rule
from .enhance import client_rules
from .errors import render_error
from .stepping import Next

blueprint = Blueprint("preview", __name__, url_prefix="/staff/preview")

PREVIEW_KEY = "preview"
Page = str | tuple[str, int] | BaseResponse


@blueprint.after_request
def _no_store(response: BaseResponse) -> BaseResponse:
    response.headers["Cache-Control"] = "no-store, max-age=0"
    return response


@blueprint.get("/<survey_id>")
@rule(Permission.ENTER_RESPONSES, Scope.SURVEY)
def landing(survey_id: str) -> str:
    survey, programme = _survey(survey_id)
    session.pop(PREVIEW_KEY, None)
    return render_template(
        "respond/landing.html",
        survey=survey,
        programme=programme,
        languages=survey.languages,
        requires_code=False,
        token="",
        start_url=url_for("preview.start", survey_id=survey_id),
        preview=True,
    )


@blueprint.post("/<survey_id>/start")
@rule(Permission.ENTER_RESPONSES, Scope.SURVEY)
def start(survey_id: str) -> Page:
    survey, _programme = _survey(survey_id)
    language = request.form.get("lang", survey.default_language)
    if language not in survey.language_codes:
        return render_error(400, _("Please choose one of the languages offered."))
    session[PREVIEW_KEY] = {
        "survey": survey.id,
        "version": survey.version,
        "language": language,
        "answers": {},
        "history": [],
    }
    return redirect(url_for("preview.page", survey_id=survey_id, number=1), code=303)


@blueprint.route("/<survey_id>/p/<int:number>", methods=["GET", "POST"])
@rule(Permission.ENTER_RESPONSES, Scope.SURVEY)
def page(survey_id: str, number: int) -> Page:
    survey, programme = _survey(survey_id)
    state = _state_of(survey)
    if state is None:
        return redirect(url_for("preview.landing", survey_id=survey_id), code=303)
    if not 1 <= number <= len(survey.pages):
        abort(404)
    g.language = state["language"]
    g.interface_fallback = survey.interface_language
    answers: dict[str, Any] = state["answers"]
    furthest = answering.furthest_page(survey, state["history"], answers)
    if number > furthest:
        return redirect(_page_url(survey_id, furthest), 303)
    current = survey.pages[number - 1]
    if request.method == "GET":
        if not answering.page_is_relevant(current, answers):
            following = answering.next_page(survey, number, answers)
            return redirect(_page_url(survey_id, following or furthest), 303)
        return _render(survey, programme, number, state)
    max_text = app_state().settings.respondent.max_text_length
    submitted = answering.read_page(survey, current, request.form, answers, max_text)
    answering.merge(survey, current, answers, submitted.values)
    session.modified = True
    # The respondent's own service decides where to go (sharing the session's answers and
    # history, so what it records is kept in the session).
    moving = DraftState(
        link_token="",
        language=state["language"],
        survey_version=survey.version,
        answers=answers,
        history=state["history"],
        current=number,
    )
    if request.form.get("action") == "back":
        stepping.back(survey, moving)
        first = moving.current == number
        return redirect(_page_url(survey_id, None if first else moving.current), 303)
    step = stepping.forward(survey, moving, submitted)
    if step.next is Next.INVALID:
        return _render(survey, programme, number, state, submitted), 422
    if step.next is Next.DECLINED:
        session.pop(PREVIEW_KEY, None)
        return render_template(
            "respond/declined.html", programme=programme, survey=survey, preview=True
        )
    if step.next is Next.SHOW:
        return redirect(_page_url(survey_id, moving.current), 303)
    would_store = answering.final_answers(survey, answers)
    session.pop(PREVIEW_KEY, None)
    return render_template(
        "respond/preview_done.html",
        survey=survey,
        programme=programme,
        answers=would_store,
        preview=True,
    )


def _survey(survey_id: str) -> tuple[Survey, Programme]:
    survey = app_state().surveys.get(survey_id)
    if survey is None:
        abort(404)
    with app_state().database.session() as db:
        assigned = db.get(SurveyAssignment, survey_id)
        if assigned is None:
            abort(404)
        programme = assigned.programme
    g.programme = programme
    return survey, programme


def _state_of(survey: Survey) -> dict[str, Any] | None:
    """This survey's preview in the session, or None (none begun, another survey, a new version)."""
    state = session.get(PREVIEW_KEY)
    if not isinstance(state, dict):
        return None
    if state.get("survey") != survey.id or state.get("version") != survey.version:
        return None
    return state


def _render(
    survey: Survey,
    programme: Programme,
    number: int,
    state: dict[str, Any],
    submitted: answering.PageSubmission | None = None,
) -> str:
    current = survey.pages[number - 1]
    answers = state["answers"]
    return render_template(
        "respond/page.html",
        survey=survey,
        programme=programme,
        token="",
        page_action=_page_url(survey.id, number),
        number=number,
        total=len(survey.pages),
        page=current,
        repetitions=answering.repetitions_asked(survey, current, answers),
        questions=with_answers(
            answering.visible_questions(current, answers), survey, current, answers
        ),
        lang=state["language"],
        values=submitted.raw if submitted else answering.form_values(current, answers),
        errors=submitted.errors if submitted else {},
        choices=answering.filtered_choices(current, answers),
        rules=client_rules(current),
        max_text=app_state().settings.respondent.max_text_length,
        preview=True,
    )


def _page_url(survey_id: str, number: int | None) -> str:
    if number is None:
        return url_for("preview.landing", survey_id=survey_id)
    return url_for("preview.page", survey_id=survey_id, number=number)
