"""Caseworker-assisted entry, and each survey on paper.

A caseworker picks a survey, the site and the survivor's language, then goes through the survey
section by section (its pages), each question in the survivor's language with the caseworker's
beside it, with a list of every section and what is left in it; they can go back to any section
asked already, and see every answer on a review page before saving. The response is sealed like
any other, marked channel "assisted"; nothing stored names the caseworker, and the exact time
stays inside the sealed blob. Submissions are deliberately not audited one by one.

Answers in progress are never kept under the caseworker's name: they are a draft like a
respondent's (`survey_app.intake.drafts`), encrypted under a key that lives only in the page on
screen and is replaced on every page, and moving through the sections is the respondent's own
service (`stepping`). There is no list of interviews in progress and no way back to one from
another tab, from history or with the caseworker's cookie. See docs/respondent-safety.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from ..definitions import Page as SurveyPage
from ..definitions import Survey
from ..definitions.piping import with_answers
from ..intake.drafts import DraftExpired, DraftFinished, DraftHandle, DraftState, DraftStore
from ..intake.responses import NoCurrentKey, ResponseMeta, store_response
from ..models import DistributionLink, Programme, SurveyAssignment
from ..staff import auth
from ..staff.auth import Permission
from ..state import app_state
from . import answering, remaining, stepping
from .access import Scope, current_user, rule
from .conditions import ConditionWords
from .errors import render_error
from .i18n import page_language, text_direction, translated
from .question_view import FrontEnd, QuestionView
from .stepping import Next
from .words import builtin_words

blueprint = Blueprint("assist", __name__)

Page = str | tuple[str, int] | BaseResponse
DRAFT_FIELD = "draft"


@blueprint.after_request
def _no_store(response: Response) -> Response:
    # Already no-store everywhere; said again here so no later change can loosen it for them.
    response.headers["Cache-Control"] = "no-store, max-age=0"
    return response


@dataclass(frozen=True)
class Choosable:
    programme: Programme
    surveys: list[Survey]


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
                select(SurveyAssignment.id)
                .where(SurveyAssignment.programme_id == programme.id)
                .order_by(SurveyAssignment.id)
            )
            options.append(Choosable(programme, [catalogue[i] for i in ids if i in catalogue]))
    return render_template("assist/choose.html", options=options)


@blueprint.get("/staff/assist/<survey_id>")
@rule(Permission.ENTER_RESPONSES, Scope.SURVEY)
def setup(survey_id: str) -> Page:
    survey = _catalogued(survey_id)
    return _setup_page(survey, {}, 200)


def _setup_page(
    survey: Survey,
    errors: dict[str, str],
    status: int,
    *,
    site: str | None = None,
    lang: str | None = None,
) -> tuple[str, int]:
    return render_template(
        "assist/setup.html",
        survey=survey,
        sites=_sites(survey.id),
        chosen_site=request.args.get("site", "") if site is None else site,
        chosen_lang=request.args.get("lang", survey.default_language) if lang is None else lang,
        errors=errors,
    ), status


@blueprint.get("/staff/assist/<survey_id>/entry")
@rule(Permission.ENTER_RESPONSES, Scope.SURVEY)
def entry_address(survey_id: str) -> Page:
    """The interview's address opened directly (a bookmark, history): the setup, nothing more."""
    survey = _catalogued(survey_id)
    return _setup_page(survey, {}, 200)


@blueprint.post("/staff/assist/<survey_id>/entry")
@rule(Permission.ENTER_RESPONSES, Scope.SURVEY)
def entry(survey_id: str) -> Page:
    """Every page of an interview: starting, each section, moving between them, saving."""
    survey = _catalogued(survey_id)
    if DRAFT_FIELD not in request.form:
        return _start(survey)
    handle = DraftHandle.from_field(request.form.get(DRAFT_FIELD))
    if handle is None:
        return _start_again(survey)
    try:
        return _continue(survey, handle)
    except NoCurrentKey as error:
        return render_error(409, translated(error))


def _continue(survey: Survey, handle: DraftHandle) -> Page:
    # One transaction for the whole request: the draft's new key and the stored response.
    with app_state().database.session() as db:
        store = _drafts(db)
        try:
            state = store.load(handle)
        except DraftFinished:
            # A second copy of the last page, sent after the first was stored (a double tap).
            return _saved(survey, None)
        except DraftExpired:
            return _start_again(survey)
        answered = app_state().survey_at(survey.id, state.survey_version)
        if state.link_token != _binding(survey) or answered is None or state.site is None:
            store.discard(handle)
            return _start_again(survey)
        return _receive(Interview(db, store, handle, state, answered))


@dataclass
class Interview:
    """One request's view of an interview in progress: its draft, opened with the page's key."""

    db: Session
    store: DraftStore
    handle: DraftHandle
    state: DraftState
    survey: Survey

    @property
    def site(self) -> str:
        return self.state.site or ""


def _start(survey: Survey) -> Page:
    site, lang = request.form.get("site", ""), request.form.get("lang", "")
    problems = _check_choices(survey, site, lang)
    if problems:
        return _setup_page(survey, problems, 422, site=site, lang=lang)
    with app_state().database.session() as db:
        app_state().ensure_registered(survey, db)
        store = _drafts(db)
        store.purge_expired()
        state = DraftState(
            link_token=_binding(survey), language=lang, survey_version=survey.version, site=site
        )
        handle = store.create(state)
        return _section_page(Interview(db, store, handle, state, survey), handle)


def _receive(interview: Interview) -> Page:
    survey, state = interview.survey, interview.state
    action = request.form.get("action", "next")
    submitted = stepping.take_page(survey, state, request.form, _max_text())
    if submitted is not None and action == "back":
        stepping.back(survey, state)
    elif submitted is not None:
        # Continue, or a move to another section: the section being left is checked first.
        if action == "next":
            step = stepping.forward(survey, state, submitted)
        else:
            step = stepping.complete_page(survey, state, submitted)
        if step.next is Next.INVALID:
            return _rotate(interview, submitted=step.submission)
        if step.next is Next.DECLINED:
            interview.store.discard(interview.handle)
            return _outcome(survey, interview.site, state.language, "declined")
        if step.next is Next.END:
            return _rotate(interview, review=True)
        if action == "next":
            return _rotate(interview)
    if action == "save":
        return _save(interview)
    if action == "review":
        return _rotate(interview, review=True)
    asked = _section_asked(action)
    if asked is not None and remaining.remaining(survey, state, _max_text()).may_open(asked):
        state.current = asked
    return _rotate(interview)


def _section_asked(action: str) -> int | None:
    """The section a "section-N" button names."""
    prefix, _, number = action.partition("-")
    return int(number) if prefix == "section" and number.isdigit() else None


def _save(interview: Interview) -> Page:
    """Store the answers if every section that applies is answered; else show what is left."""
    survey, state = interview.survey, interview.state
    left = remaining.remaining(survey, state, _max_text())
    if not left.complete or not answering.consent_given(survey, state.answers):
        return _rotate(interview, review=True)
    # The draft is marked finished in the same transaction as the response is stored: of two
    # copies of the last page sent at once, only the one that changed the row stores anything.
    if not interview.store.finish(interview.handle):
        return _saved(survey, interview)
    # NoCurrentKey leaves this transaction (see `entry`): the draft stays as it was.
    _store(interview.db, survey, interview.site, state.language, state.answers)
    return _saved(survey, interview)


def _saved(survey: Survey, interview: Interview | None) -> BaseResponse:
    site = interview.site if interview else ""
    lang = interview.state.language if interview else ""
    return _outcome(survey, site, lang, "saved")


def _outcome(survey: Survey, site: str, lang: str, outcome: str) -> BaseResponse:
    # A redirect: the page that follows is a GET holding no answer, and Back cannot re-send.
    return redirect(
        url_for("assist.next_entry", survey_id=survey.id, site=site, lang=lang, outcome=outcome),
        303,
    )


def _rotate(
    interview: Interview,
    *,
    review: bool = False,
    submitted: answering.PageSubmission | None = None,
) -> Page:
    """The next page under a new draft key; the key the browser sent opens nothing any more.

    `review`: the review before saving, or, while something is left, the first section that
    needs it (with the problems of its answers shown, when it was asked already).
    `submitted`: the section just sent, shown again with its errors.
    """
    survey, state = interview.survey, interview.state
    left = remaining.remaining(survey, state, _max_text())
    problems: dict[str, str] = {}
    if review and not left.complete:
        section = left.to_do[0]
        state.current = section.number
        if section.asked:
            problems = _problems_of(section, survey, state)
    try:
        new = interview.store.rotate(interview.handle, state)
    except DraftExpired:
        return _start_again(survey)
    if review and left.complete:
        return _review_page(interview, new)
    if submitted is not None:
        return _section_page(interview, new, submitted), 422
    if problems:
        return _section_page(interview, new, errors=problems), 422
    return _section_page(interview, new)


def _problems_of(section: remaining.Section, survey: Survey, state: DraftState) -> dict[str, str]:
    found = remaining.problems_by_question(survey, state.answers, _max_text())
    return {q.id: found[q.id] for q in section.page.questions if q.id in found}


def _start_again(survey: Survey) -> tuple[str, int]:
    """A page whose answers can no longer be opened: saved, left, idle, or replaced by a later page."""
    return render_template("assist/expired.html", survey=survey), 410


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
    return render_template("assist/paper.html", **paper_form(survey_id, "assist.paper"))


def paper_form(survey_id: str, endpoint: str) -> dict[str, Any]:
    """What the paper form of a survey shows, in the language the request asks for; its
    language links lead to `endpoint` (this page, or the offline page's copy)."""
    survey = _catalogued(survey_id)
    lang = survey.language(request.args.get("lang")).code
    words = builtin_words(lang, survey.interface_language)
    conditions = ConditionWords.for_page(survey, lang, page_language())
    return {
        "survey": survey,
        "lang": lang,
        "lang_dir": text_direction(lang),
        "words": words,
        "conditions": conditions,
        "view": QuestionView(FrontEnd.PAPER, survey, lang, words, conditions=conditions),
        "paper_endpoint": endpoint,
    }


def _store(db: Session, survey: Survey, site: str, lang: str, answers: dict[str, Any]) -> None:
    store_response(
        db,
        survey_id=survey.id,
        survey_version=survey.version,
        definition=survey.canonical_json,
        answers=answering.final_answers(survey, answers),
        meta=ResponseMeta(
            site=site, channel="assisted", language=lang, day=datetime.now(UTC).date()
        ),
        period_granularity=app_state().settings.privacy.period,
    )


def _common(interview: Interview) -> dict[str, Any]:
    """What every page of an interview shows: the survey, site and languages, what is left."""
    survey, state = interview.survey, interview.state
    staff_lang = page_language()
    return {
        "survey": survey,
        "site": interview.site,
        "lang": state.language,
        "lang_dir": text_direction(state.language),
        "staff_lang": staff_lang,
        "words": builtin_words(state.language, survey.interface_language),
        "staff_words": builtin_words(),
        "max_text": _max_text(),
        "conditions": ConditionWords(survey, staff_lang),
        "left": remaining.remaining(survey, state, _max_text()),
        "current": state.current,
    }


def _section_page(
    interview: Interview,
    handle: DraftHandle,
    submitted: answering.PageSubmission | None = None,
    errors: dict[str, str] | None = None,
) -> str:
    survey, state = interview.survey, interview.state
    page = survey.pages[state.current - 1]
    common = _common(interview)
    applying = [s.number for s in common["left"].applying]
    if state.current not in applying:
        applying = sorted([*applying, state.current])
    g.draft_field = handle.to_field()
    shown_errors = submitted.errors if submitted else (errors or {})
    return render_template(
        "assist/section.html",
        errors=shown_errors,
        **common,
        page=page,
        number=state.current,
        position=applying.index(state.current) + 1,
        total=len(applying),
        first=answering.previous_page(survey, state.current, state.answers) is None,
        last=answering.next_page(survey, state.current, state.answers) is None,
        questions=with_answers(
            answering.visible_questions(page, state.answers), survey, page, state.answers
        ),
        view=QuestionView(
            FrontEnd.ASSIST,
            survey,
            state.language,
            common["words"],
            values=submitted.raw if submitted else answering.form_values(page, state.answers),
            errors=shown_errors,
            choices=answering.filtered_choices(page, state.answers),
            max_text=_max_text(),
            staff_lang=common["staff_lang"],
            staff_words=common["staff_words"],
            conditions=common["conditions"],
            conditions_shown=frozenset(_same_page_conditions(page)),
        ),
    )


def _review_page(interview: Interview, handle: DraftHandle) -> str:
    g.draft_field = handle.to_field()
    answers = answering.final_answers(interview.survey, interview.state.answers)
    return render_template("assist/review.html", **_common(interview), answers=answers)


def _same_page_conditions(page: SurveyPage) -> set[str]:
    """Questions shown whatever the answers before them, because their condition depends on
    this very section: the caseworker reads when to ask them. Conditions on earlier sections
    were applied already (the question is shown only when it applies)."""
    ids = {q.id for q in page.questions}
    return {q.id for q in page.questions if q.relevant and q.relevant.references() & ids}


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


def _binding(survey: Survey) -> str:
    """What an assisted draft holds in place of a link token: a draft of one kind can never
    be opened as the other (link tokens never contain a colon)."""
    return f"assisted:{survey.id}"


def _drafts(db: Session) -> DraftStore:
    return DraftStore(db, timedelta(minutes=app_state().settings.respondent.draft_idle_minutes))


def _max_text() -> int:
    return app_state().settings.respondent.max_text_length
