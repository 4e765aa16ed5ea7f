"""The respondent's pages: one address per survey, every page the answer to a form post.

`GET /s/<token>` is the landing page and never shows an answer. Every later page is the reply to
`POST /s/<token>`: the form carries the page number and the draft field (id and key of the
answers in progress, see `survey_app.intake.drafts`), and each reply carries a new draft field, so the
history holds one neutral address and an old page re-sent opens nothing. The whole design is in
docs/respondent-safety.md.

Views stay thin: reading a page's answers is `survey_app.web.answering`, drafts are
`survey_app.intake.drafts`, sealing and storing is `survey_app.intake.responses`.
"""

from __future__ import annotations

import contextlib
import logging
import operator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
)
from flask_babel import gettext as _
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from ..config import ConfigError, RespondentSettings
from ..definitions import Survey
from ..definitions.piping import with_answers
from ..intake import drafts, release
from ..intake.distribution import code_draft_id, spend_code
from ..intake.drafts import (
    DraftExpired,
    DraftFinished,
    DraftHandle,
    DraftState,
    DraftStore,
    StoredDraft,
)
from ..intake.help_contacts import Contacts, HelpFileError, contacts_for, read_help_file
from ..intake.responses import ResponseMeta, register_version, seal_response
from ..messages import N_
from ..models import Programme
from ..operations.failures import describe
from ..state import app_state
from . import answering, respondent_forms, stepping
from .enhance import client_rules
from .errors import render_error, too_many_requests
from .i18n import page_language
from .ratelimit import Limit, Refused
from .served_links import ServedLink, ServedProgramme, find_link, find_link_and_draft
from .stepping import Next

blueprint = Blueprint("respond", __name__)
log = logging.getLogger(__name__)

DRAFT_FIELD = "draft"
LANGUAGE_SWITCH = "switch_lang"
DEFAULT_HELP = "survey_app.default_help"


@dataclass(frozen=True)
class Later:
    """A page to render once the request is done with the database.

    Nothing on a respondent's page needs the database, and rendering inside the transaction
    kept it open for as long again: other requests waited for its locks (on SQLite, the
    whole database's write lock).
    """

    template: str
    context: dict[str, Any]
    status: int = 200
    # Puts back no answer, so may be rendered once for everyone who reaches the same page the
    # same way (survey_app.web.page_shapes).
    keepable: bool = False

    def render(self) -> tuple[str, int]:
        if self.keepable:
            return app_state().page_shapes.render(self.template, self.context), self.status
        return render_template(self.template, **self.context), self.status


Reply = BaseResponse | tuple[str, int] | str | Later


def _rendered(reply: Reply) -> BaseResponse | tuple[str, int] | str:
    return reply.render() if isinstance(reply, Later) else reply


@blueprint.before_request
def _check_form_token() -> None:
    # Leaving must always work, even without the cookie (see quick_exit).
    if request.endpoint != "respond.quick_exit":
        respondent_forms.check()


@blueprint.context_processor
def _form_token() -> dict[str, Any]:
    # A respondent's forms carry a token of their own, not the session's (see respondent_forms).
    return {"csrf_token": respondent_forms.token}


@blueprint.after_request
def _respondent_headers(response: Response) -> Response:
    # Already no-store everywhere; say it again here so no later change can loosen it for them.
    response.headers["Cache-Control"] = "no-store, max-age=0"
    return respondent_forms.set_cookie_if_new(response)


class SurveyClosed(Exception):
    """The link exists but is switched off, or its survey is no longer served."""

    def __init__(self, programme: ServedProgramme) -> None:
        super().__init__("this survey has closed")
        self.programme = programme


@blueprint.errorhandler(SurveyClosed)
def _closed(error: SurveyClosed) -> tuple[str, int]:
    handle = DraftHandle.from_field(request.form.get(DRAFT_FIELD))
    answering = False
    if handle is not None:
        # Someone was answering when the link was switched off: tell them in their language,
        # and their answers go now.
        with _connection() as db:
            store = _drafts(db)
            with contextlib.suppress(DraftExpired, DraftFinished):
                g.language = store.load(handle).language
                answering = True
                store.discard(handle)
    return render_template(
        "respond/closed.html", programme=error.programme, answering=answering
    ), 410


@blueprint.app_context_processor
def _respondent_context() -> dict[str, Any]:
    return {"exit_url": app_state().settings.respondent.quick_exit_url, "help_for": _help_for}


def _help_for(
    programme: Programme | ServedProgramme | None, survey: Survey | None
) -> list[dict[str, str]]:
    """The help contacts this page shows (see `survey_app.intake.help_contacts.contacts_for`)."""
    programme = programme or g.get("programme") or _programme_of_this_link()
    fallback = survey.default_language if survey is not None else "en"
    return contacts_for(
        programme.help_contacts if programme is not None else None,
        default_help(current_app),
        page_language(),
        fallback,
    )


def _programme_of_this_link() -> ServedProgramme | None:
    """On an error page at a link's address (a form that expired, a request too large), the
    programme of that link, so that its help is shown there too."""
    token = (request.view_args or {}).get("token") if request.blueprint == "respond" else None
    if not isinstance(token, str):
        return None
    try:
        with _connection() as db:
            link = find_link(db, token)
            return None if link is None else link.programme
    except SQLAlchemyError:
        # The error page being shown may be about the database itself: it still shows.
        return None


def default_help(app: Flask) -> Contacts:
    contacts: Contacts = app.extensions.get(DEFAULT_HELP, {})
    return contacts


@blueprint.get("/s/<token>")
def landing(token: str) -> Any:
    link, survey, programme = _served(token)
    return _rendered(_landing(token, survey, programme, link.requires_code))


@blueprint.post("/s/<token>")
def survey_page(token: str) -> Any:
    """Every page after the landing page: starting, answering, Back, language, finishing."""
    if DRAFT_FIELD not in request.form:
        return _rendered(_start(token))
    return _rendered(_answer(token))


def _answer(token: str) -> Reply:
    handle = DraftHandle.from_field(request.form.get(DRAFT_FIELD))
    # One connection for the whole request (see survey_app.db.Database.connection).
    with _connection() as db:
        if handle is None:
            return _start_again(_served(token, db)[0])
        link, survey, programme, stored = _served_with_draft(token, db, handle)
        store = _drafts(db)
        try:
            current_draft = _current_draft(store, handle, stored, token, survey)
        except DraftFinished:
            # A second copy of the last page, sent after the first was stored (a double tap).
            return _received(survey, programme)
        if current_draft is None:
            return _start_again(link)
        state, survey = current_draft
        g.language = state.language
        return _receive_page(db, store, handle, state, link, survey, programme)


def _start(token: str) -> Reply:
    _release_if_due()
    done = _Done()
    # One connection for the whole request (see survey_app.db.Database.connection).
    with _connection() as db:
        reply = _begin(token, db, done)
    # Known to be stored only now that the request's writes have committed.
    state = app_state()
    for survey in done.registered:
        state.stored_version(survey)
    if done.purged_step is not None:
        state.drafts_purged_step = done.purged_step
    return reply


@dataclass
class _Done:
    """What a start wrote, to note once its writes have committed."""

    registered: list[Survey] = field(default_factory=list)
    purged_step: int | None = None


def _purge_if_due(store: DraftStore, done: _Done) -> None:
    """Delete expired drafts, unless this server did in this expiry step already."""
    moment = drafts.now()
    step = drafts.expiry_step(moment)
    if step != app_state().drafts_purged_step:
        store.purge_expired(moment)
        done.purged_step = step


def _begin(token: str, db: Connection, done: _Done) -> Reply:
    link, survey, programme = _served(token, db)
    language = request.form.get("lang", survey.default_language)
    if language not in survey.language_codes:
        return render_error(400, _("Please choose one of the languages offered."))
    refused = _rate_limited()
    if refused is not None:
        return too_many_requests(refused.retry_after_seconds)
    if not app_state().version_stored(survey):
        # A survey assigned while this server runs (`serve` registers the others at start).
        register_version(db, survey.id, survey.version, survey.canonical_json)
        done.registered.append(survey)
    store = _drafts(db)
    _purge_if_due(store, done)
    state = DraftState(link_token=token, language=language, survey_version=survey.version)
    g.language = language
    if not link.requires_code:
        return _render_page(survey, programme, token, state, store.create(state))
    # The code is spent here, at the start, so that no transaction storing a response ever
    # touches a code (see survey_app.intake.distribution); with the draft it opens, or not at all.
    typed = request.form.get("code", "")
    code_key = app_state().code_key
    browser = respondent_forms.browser()
    draft_id = None if browser is None else code_draft_id(token, typed, browser, code_key)
    with app_state().database.together(db):
        if spend_code(db, token, typed, code_key):
            handle: DraftHandle | None = store.create(state, draft_id)
        else:
            # Spent already: by this browser's own start a moment ago (a double tap), whose
            # draft no page was sent from yet, this browser starts again; by anyone else, no.
            handle = None if draft_id is None else store.restart(draft_id, state)
        if handle is None:
            error = _("This code is not valid or has already been used. Please check the card.")
            return _landing(
                token, survey, programme, True, code=typed, code_error=error, status=403
            )
    return _render_page(survey, programme, token, state, handle)


def _landing(
    token: str,
    survey: Survey,
    programme: ServedProgramme,
    requires_code: bool,
    *,
    code: str = "",
    code_error: str | None = None,
    status: int = 200,
) -> Later:
    return Later(
        "respond/landing.html",
        {
            "token": token,
            "survey": survey,
            "programme": programme,
            "languages": survey.languages,
            "requires_code": requires_code,
            "code": code,
            "code_error": code_error,
        },
        status,
        keepable=not code and code_error is None,
    )


def _current_draft(
    store: DraftStore, handle: DraftHandle, stored: StoredDraft | None, token: str, survey: Survey
) -> tuple[DraftState, Survey] | None:
    """The respondent's draft and the survey version it was begun on, or None when it is gone.

    The version comes from the database when this process serves another one: after a survey
    file changes, respondents finish the version they started, on whichever server they reach.
    """
    try:
        state = store.open(handle, stored)
    except DraftExpired:
        return None
    answered = app_state().survey_at(survey.id, state.survey_version)
    if state.link_token != token or answered is None:
        store.discard(handle)
        return None
    return state, answered


def _receive_page(
    db: Connection,
    store: DraftStore,
    handle: DraftHandle,
    state: DraftState,
    link: ServedLink,
    survey: Survey,
    programme: ServedProgramme,
) -> Reply:
    token = link.token
    if request.form.get("action") == "retry":
        # The busy page's "Try again": the answers are all in the draft already.
        return _finish(db, store, handle, state, link, survey, programme)
    submitted = stepping.take_page(survey, state, request.form, _max_text())
    if submitted is None:
        # A page re-sent out of order (possible only with a handle that is still current, i.e.
        # from this very tab): show the page the respondent is on, without taking its fields.
        return _rotate_and_render(store, handle, state, survey, link)
    switch = request.form.get(LANGUAGE_SWITCH)
    if switch is not None:
        if switch in survey.language_codes:
            state.language = switch
            g.language = switch
        return _rotate_and_render(store, handle, state, survey, link)
    if request.form.get("action") == "back":
        stepping.back(survey, state)
        return _rotate_and_render(store, handle, state, survey, link)
    step = stepping.forward(survey, state, submitted)
    if step.next is Next.INVALID:
        try:
            new = store.rotate(handle, state)
        except DraftExpired:
            # The same page sent twice at once: the other copy moved on with the key.
            return _start_again(link)
        return _render_page(survey, programme, token, state, new, step.submission, status=422)
    if step.next is Next.DECLINED:
        store.discard(handle)
        return Later("respond/declined.html", {"programme": programme, "survey": survey})
    if step.next is Next.SHOW:
        return _rotate_and_render(store, handle, state, survey, link)
    return _finish(db, store, handle, state, link, survey, programme)


def _finish(
    db: Connection,
    store: DraftStore,
    handle: DraftHandle,
    state: DraftState,
    link: ServedLink,
    survey: Survey,
    programme: ServedProgramme,
) -> Reply:
    if not stepping.may_finish(survey, state):
        return _rotate_and_render(store, handle, state, survey, link)
    refused = _rate_limited()
    if refused is not None:
        new = store.rotate(handle, state)
        return _busy(survey, programme, state, new, refused.retry_after_seconds)
    sealed = seal_response(
        db,
        survey_id=survey.id,
        survey_version=survey.version,
        definition=survey.canonical_json,
        answers=answering.final_answers(survey, state.answers),
        meta=ResponseMeta(
            site=link.site, channel="self", language=state.language, day=datetime.now(UTC).date()
        ),
        period_granularity=app_state().settings.privacy.period,
        version_stored=app_state().version_stored(survey),
    )
    # The draft is marked finished together with the stored response: of two finishing
    # requests sent at once, only the one that changed the row stores anything, and a response
    # that fails to store leaves the draft to send again. Sealed first, so the row is locked
    # (on SQLite, the database) only for the two writes.
    if store.finish_with(handle, sealed.table, sealed.row):
        return _received(survey, programme)
    if store.is_finished(handle):
        return _received(survey, programme)  # its twin, sent at the same moment, stored them
    # A page sent at the same moment from this page (Back, a language) moved the answers on.
    return _start_again(link)


def _received(survey: Survey, programme: ServedProgramme) -> Later:
    return Later("respond/done.html", {"survey": survey, "programme": programme}, keepable=True)


def _rotate_and_render(
    store: DraftStore, handle: DraftHandle, state: DraftState, survey: Survey, link: ServedLink
) -> Reply:
    try:
        new = store.rotate(handle, state)
    except DraftExpired:
        return _start_again(link)
    return _render_page(survey, link.programme, link.token, state, new)


def _busy(
    survey: Survey,
    programme: ServedProgramme,
    state: DraftState,
    handle: DraftHandle,
    retry_after_seconds: int,
) -> BaseResponse:
    """Too many surveys finished from here just now: the answers stay in this page."""
    g.draft_field = handle.to_field()
    body = render_template(
        "respond/busy.html",
        token=state.link_token,
        survey=survey,
        programme=programme,
        draft_field=handle.to_field(),
        page_number=state.current,
        retry_after_minutes=max(1, -(-retry_after_seconds // 60)),
    )
    response = make_response(body, 429)
    response.headers["Retry-After"] = str(retry_after_seconds)
    return response


def _start_again(link: ServedLink) -> Later:
    """A page that can no longer be opened: left, replaced by a later page, idle, or changed.
    At a link that needs a code, starting again needs a new code once a page was sent (see
    `_begin`), and the page says whom to ask."""
    return Later(
        "respond/expired.html",
        {"token": link.token, "programme": link.programme, "requires_code": link.requires_code},
        410,
    )


@blueprint.route("/exit", methods=["GET", "POST"])
def quick_exit() -> BaseResponse:
    """Leave at once: forget the draft, ask the browser to forget this site, go somewhere neutral."""
    handle = DraftHandle.from_field(request.form.get(DRAFT_FIELD))
    if handle is not None:
        try:
            with _connection() as db:
                _drafts(db).discard(handle)
        except SQLAlchemyError as error:
            # Leaving must work even then: the draft cannot be read without the key the page
            # takes away with it, and it is purged when it expires.
            log.error("quick exit could not delete a draft: %s", describe(error))
    session.clear()
    # exit.js sends "beacon" on its way out and takes the page to the neutral site itself.
    response: BaseResponse = Response(status=204) if request.form.get("beacon") else _redirect_out()
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return respondent_forms.forget(response)


def _redirect_out() -> BaseResponse:
    return redirect(app_state().settings.respondent.quick_exit_url, code=303)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    # Its forms are checked against their own token (_check_form_token); leaving must always
    # work, even with an expired session: it only ever deletes a draft whose key it carries.
    app.extensions["csrf"].exempt(blueprint)
    app.extensions[DEFAULT_HELP] = load_default_help(app_state(app).settings.respondent)


def load_default_help(settings: RespondentSettings) -> Contacts:
    try:
        return read_help_file(settings.default_help_file)
    except HelpFileError as error:
        raise ConfigError(
            N_("respondent.default_help_file: %(problem)s"), problem=str(error)
        ) from None


def _served(token: str, db: Connection | None = None) -> tuple[ServedLink, Survey, ServedProgramme]:
    """The link, its survey and programme (one query, on `db` if given);
    404 for no such link, SurveyClosed for one switched off or no longer served."""
    if db is None:
        with _connection() as own:
            return _served(token, own)
    return _open(find_link(db, token))


def _served_with_draft(
    token: str, db: Connection, handle: DraftHandle
) -> tuple[ServedLink, Survey, ServedProgramme, StoredDraft | None]:
    """As `_served`, with the row of the handle's draft (None: no such draft), in one query."""
    link, stored = find_link_and_draft(db, token, handle.draft_id)
    return *_open(link), stored


def _open(link: ServedLink | None) -> tuple[ServedLink, Survey, ServedProgramme]:
    state = app_state()
    if link is None:
        abort(404)
    g.programme = link.programme
    survey = state.surveys.get(link.survey_id)
    if not link.active or survey is None:
        raise SurveyClosed(link.programme)
    # Buttons and messages for a survey language the app is not translated into.
    g.interface_fallback = survey.interface_language
    return link, survey, link.programme


def _render_page(
    survey: Survey,
    programme: ServedProgramme,
    token: str,
    state: DraftState,
    handle: DraftHandle,
    submitted: answering.PageSubmission | None = None,
    status: int = 200,
) -> Later:
    number = state.current
    current = survey.pages[number - 1]
    applying = [
        index
        for index, page in enumerate(survey.pages, 1)
        if index == number or answering.page_is_relevant(page, state.answers)
    ]
    g.draft_field = handle.to_field()
    visible = answering.visible_questions(current, state.answers)
    questions = with_answers(visible, survey, current, state.answers)
    values = submitted.raw if submitted else answering.form_values(current, state.answers)
    errors = submitted.errors if submitted else {}
    return Later(
        "respond/page.html",
        {
            "survey": survey,
            "programme": programme,
            "token": token,
            "number": number,
            "position": applying.index(number) + 1,
            "total": len(applying),
            "last": answering.next_page(survey, number, state.answers) is None,
            "first": answering.previous_page(survey, number, state.answers) is None,
            "page": current,
            "repetitions": answering.repetitions_asked(survey, current, state.answers),
            "questions": questions,
            "lang": state.language,
            "languages": survey.languages,
            "values": values,
            "errors": errors,
            "choices": answering.filtered_choices(current, state.answers),
            "rules": client_rules(current),
            "max_text": _max_text(),
        },
        status,
        # No answer put back in a field, no error quoting one, none inserted into a label.
        keepable=not values and not errors and all(map(operator.is_, questions, visible)),
    )


def _release_if_due() -> None:
    """Release yesterday's responses if nobody did yet; a failure must not stop a respondent.

    Once this process has seen the interval released, it does not ask again until the next
    interval begins: a release can only happen once per interval.
    """
    state = app_state()
    interval = release.current_interval()
    if state.released_interval == interval:
        return
    try:
        with state.database.session() as db:
            release.release_if_due(db)
    except SQLAlchemyError as error:
        log.error("release of stored responses failed: %s", describe(error))
        return
    state.released_interval = interval


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


def _drafts(db: Connection) -> DraftStore:
    return DraftStore(db, timedelta(minutes=app_state().settings.respondent.draft_idle_minutes))


def _connection() -> AbstractContextManager[Connection]:
    return app_state().database.connection()


def _max_text() -> int:
    return app_state().settings.respondent.max_text_length
