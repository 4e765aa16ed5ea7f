"""The respondent's pages: landing, language, one page per group, thanks; and the quick exit.

Views stay thin: reading a page's answers is `survey_app.web.answering`, drafts are
`survey_app.drafts`, sealing and storing is `survey_app.responses`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from ..definitions import Survey
from ..distribution import spend_code
from ..drafts import DraftExpired, DraftFinished, DraftHandle, DraftState, DraftStore
from ..failures import describe
from ..models import DistributionLink, Programme
from ..release import release_if_due
from ..responses import ResponseMeta, store_response
from ..state import app_state
from . import answering
from .enhance import client_rules
from .errors import render_error, too_many_requests
from .ratelimit import Limit, Refused

blueprint = Blueprint("respond", __name__)
log = logging.getLogger(__name__)

DRAFT_COOKIE_KEY = "d"


@blueprint.after_request
def _respondent_headers(response: Response) -> Response:
    # Already no-store everywhere; say it again here so no later change can loosen it for them.
    response.headers["Cache-Control"] = "no-store, max-age=0"
    return response


@blueprint.get("/s/<token>")
def landing(token: str) -> str:
    link, survey, programme = _served(token)
    return render_template(
        "respond/landing.html",
        token=token,
        survey=survey,
        programme=programme,
        languages=survey.languages,
        requires_code=link.requires_code,
    )


@blueprint.post("/s/<token>/start")
def start(token: str) -> BaseResponse | tuple[str, int]:
    _release_if_due()
    # One transaction for the whole request, reads included.
    with _database_session() as db:
        link, survey, programme = _served(token, db)
        language = request.form.get("lang", survey.default_language)
        if language not in survey.language_codes:
            return render_error(400, _("Please choose one of the languages offered."))
        refused = _rate_limited()
        if refused is not None:
            return too_many_requests(refused.retry_after_seconds)
        app_state().ensure_registered(survey, db)
        # The code is spent here, at the start, so that no transaction storing a response ever
        # touches a code (see survey_app.distribution).
        if link.requires_code and not spend_code(
            db, token, request.form.get("code", ""), app_state().code_key
        ):
            g.language = language
            return render_template(
                "respond/landing.html",
                token=token,
                survey=survey,
                programme=programme,
                languages=survey.languages,
                requires_code=True,
                code_error=_(
                    "This code is not valid or has already been used. Please check the card."
                ),
            ), 403
        store = _drafts(db)
        store.purge_expired()
        old = DraftHandle.from_cookie(session.get(DRAFT_COOKIE_KEY))
        if old is not None:
            store.discard(old)
        handle = store.create(
            DraftState(link_token=token, language=language, survey_version=survey.version)
        )
    session.clear()
    session[DRAFT_COOKIE_KEY] = handle.to_cookie()
    session["lang"] = language
    return redirect(url_for("respond.page", token=token, number=1), code=303)


@blueprint.route("/s/<token>/p/<int:number>", methods=["GET", "POST"])
def page(token: str, number: int) -> BaseResponse | tuple[str, int] | str:
    handle = DraftHandle.from_cookie(session.get(DRAFT_COOKIE_KEY))
    # One transaction for the whole request, reads included.
    with _database_session() as db:
        link, survey, programme = _served(token, db)
        if handle is None:
            if not 1 <= number <= len(survey.pages):
                abort(404)
            return redirect(url_for("respond.landing", token=token), code=303)
        store = _drafts(db)
        try:
            current_draft = _current_draft(store, handle, token, survey)
        except DraftFinished:
            # A second copy of the last page, sent after the first was stored (a double tap).
            return _already_received(token, session.get("lang", survey.default_language))
        if current_draft is None:
            session.clear()
            return render_template("respond/expired.html", token=token, programme=programme), 410
        state, survey = current_draft
        if not 1 <= number <= len(survey.pages):
            abort(404)
        g.language = state.language
        # Pages are taken in order: nobody reaches a later page (or the end) by typing its URL.
        furthest = answering.furthest_page(survey, state.history, state.answers)
        if number > furthest:
            return redirect(_page_url(token, furthest), 303)
        current = survey.pages[number - 1]
        if request.method == "GET":
            if not answering.page_is_relevant(current, state.answers):
                following = answering.next_page(survey, number, state.answers)
                return redirect(_page_url(token, following or furthest), 303)
            return _render_page(survey, programme, token, number, state)
        return _receive_page(db, store, handle, state, link, survey, programme, number)


def _current_draft(
    store: DraftStore, handle: DraftHandle, token: str, survey: Survey
) -> tuple[DraftState, Survey] | None:
    """The respondent's draft and the survey version it was begun on, or None when it expired.

    The version comes from the database when this process serves another one: after a survey
    file changes, respondents finish the version they started, on whichever server they reach.
    """
    try:
        state = store.load(handle)
    except DraftExpired:
        return None
    answered = app_state().survey_at(survey.id, state.survey_version)
    if state.link_token != token or answered is None:
        store.discard(handle)
        return None
    return state, answered


def _receive_page(
    db: Any,
    store: DraftStore,
    handle: DraftHandle,
    state: DraftState,
    link: DistributionLink,
    survey: Survey,
    programme: Programme,
    number: int,
) -> BaseResponse | tuple[str, int] | str:
    token = link.token
    current = survey.pages[number - 1]
    submitted = answering.read_page(survey, current, request.form, state.answers, _max_text())
    answering.merge(survey, current, state.answers, submitted.values)
    if request.form.get("action") == "back":
        store.save(handle, state)
        previous = answering.previous_page(survey, number, state.answers)
        return redirect(_page_url(token, previous), 303)
    if submitted.errors:
        store.save(handle, state)
        return _render_page(survey, programme, token, number, state, submitted), 422
    if answering.declined_consent(current, state.answers):
        store.discard(handle)
        session.clear()
        return render_template("respond/declined.html", programme=programme, survey=survey)
    if number not in state.history:
        state.history.append(number)
    following = answering.next_page(survey, number, state.answers)
    if following is not None:
        store.save(handle, state)
        return redirect(_page_url(token, following), 303)
    if not answering.consent_given(survey, state.answers):
        store.save(handle, state)
        consent = survey.consent_question()
        assert consent is not None  # consent_given is only false for a survey that asks it
        return redirect(_page_url(token, survey.pages.index(survey.page_of(consent.id)) + 1), 303)
    refused = _rate_limited()
    if refused is not None:
        store.save(handle, state)
        return too_many_requests(refused.retry_after_seconds)
    if not store.finish(handle):
        # The same page was sent twice at once and the other request stored the answers.
        return _already_received(token, state.language)
    store_response(
        db,
        survey_id=survey.id,
        survey_version=survey.version,
        definition=survey.canonical_json,
        answers=answering.final_answers(survey, state.answers),
        meta=ResponseMeta(
            site=link.site, channel="self", language=state.language, day=datetime.now(UTC).date()
        ),
        period_granularity=app_state().settings.privacy.period,
    )
    return _already_received(token, state.language)


def _already_received(token: str, language: str) -> BaseResponse:
    session.clear()
    return redirect(url_for("respond.done", token=token, lang=language), code=303)


@blueprint.get("/s/<token>/done/<lang>")
def done(token: str, lang: str) -> str:
    _link, survey, programme = _served(token)
    g.language = survey.language(lang).code
    return render_template("respond/done.html", survey=survey, programme=programme)


@blueprint.route("/exit", methods=["GET", "POST"])
def quick_exit() -> BaseResponse:
    """Leave at once: forget the draft, ask the browser to forget this site, go somewhere neutral.

    Only a POST deletes the draft on the server: a GET (a link, a prefetch, another site's
    image) changes no state; it still clears the browser's cookie, and with it the draft's key.
    """
    handle = DraftHandle.from_cookie(session.get(DRAFT_COOKIE_KEY))
    if handle is not None and request.method == "POST":
        with _database_session() as db:
            _drafts(db).discard(handle)
    session.clear()
    response = redirect(app_state().settings.respondent.quick_exit_url, code=303)
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


# Built once: every respondent request runs it, and building a statement costs more than
# running this one.
_SERVED = (
    select(DistributionLink, Programme)
    .join(Programme, Programme.id == DistributionLink.programme_id)
    .where(DistributionLink.token == bindparam("token"))
)


def _served(token: str, db: Session | None = None) -> tuple[DistributionLink, Survey, Programme]:
    """The active link, its survey and programme (one query, in `db`'s transaction if given)."""
    state = app_state()
    if db is None:
        with state.database.session() as own:
            return _served(token, own)
    found = db.execute(_SERVED, {"token": token}).first()
    if found is None or not found[0].active:
        abort(404)
    link, programme = found
    survey = state.surveys.get(link.survey_id)
    if survey is None:
        abort(404)
    g.programme = programme
    return link, survey, programme


def _render_page(
    survey: Survey,
    programme: Programme,
    token: str,
    number: int,
    state: DraftState,
    submitted: answering.PageSubmission | None = None,
) -> str:
    current = survey.pages[number - 1]
    return render_template(
        "respond/page.html",
        survey=survey,
        programme=programme,
        token=token,
        number=number,
        total=len(survey.pages),
        page=current,
        questions=answering.visible_questions(current, state.answers),
        lang=state.language,
        values=submitted.raw if submitted else answering.form_values(current, state.answers),
        errors=submitted.errors if submitted else {},
        choices=answering.filtered_choices(current, state.answers),
        rules=client_rules(current),
        max_text=_max_text(),
    )


def _release_if_due() -> None:
    """Release yesterday's responses if nobody did yet; a failure must not stop a respondent."""
    try:
        with _database_session() as db:
            release_if_due(db)
    except SQLAlchemyError as error:
        log.error("release of stored responses failed: %s", describe(error))


def _rate_limited() -> Refused | None:
    """Count a start or a completion (never a page view): the address first, then the link, so
    what an address is refused never uses up the link's budget."""
    state = app_state()
    limits = state.settings.respondent
    token = request.view_args["token"] if request.view_args else ""
    return state.limiter.hit(
        Limit(
            state.limiter.client_key(request.remote_addr), limits.submissions_per_client_per_minute
        ),
        Limit(f"link:{token}", limits.submissions_per_minute),
    )


def _page_url(token: str, number: int | None) -> str:
    if number is None:
        return url_for("respond.landing", token=token)
    return url_for("respond.page", token=token, number=number)


def _drafts(db: Any) -> DraftStore:
    return DraftStore(db, timedelta(minutes=app_state().settings.respondent.draft_idle_minutes))


def _database_session() -> Any:
    return app_state().database.session()


def _max_text() -> int:
    return app_state().settings.respondent.max_text_length
