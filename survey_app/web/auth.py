"""Signing in and out, changing one's password, and enrolling an authenticator app.

The domain rules (lockout, code replay, password checks, audit) live in `survey_app.staff.auth`;
session handling in `web.sessions`. Views here only move between the two.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from ..models import User
from ..staff import auth
from ..state import app_state
from . import sessions
from .access import current_user, rule
from .errors import render_error, too_many_requests
from .forms import ChangePasswordForm, CodeForm, SignInForm, TwoFactorForm
from .i18n import UI_LANGUAGES, translated
from .ratelimit import Limit, Refused
from .redirects import same_site_path

blueprint = Blueprint("auth", __name__, url_prefix="/auth")

# Per client address (hashed, in memory only), on top of the per-account lockout.
SIGN_IN_ATTEMPTS_PER_MINUTE = 10
ENROLMENT_KEY = "enrolling"

Page = str | tuple[str, int] | BaseResponse


@blueprint.route("/sign-in", methods=["GET", "POST"])
@rule(public=True)
def sign_in() -> Page:
    if sessions.signed_in_user() is not None:
        return redirect(url_for("staff.home"))
    form = SignInForm()
    ended = sessions.take_ended_message()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("auth/sign_in.html", form=form, ended=ended), status
    refused = _refused_attempt()
    if refused is not None:
        return _too_many_attempts(refused.retry_after_seconds)
    next_url = same_site_path(request.args.get("next"))
    with app_state().database.session() as db:
        user = _check_password(db, form)
        if user is not None and user.totp_secret:
            sessions.begin_second_step(user, next_url)
        elif user is not None:
            user = _complete_sign_in(db, form, user, with_code=False)
            if user is not None:
                sessions.start(user)
    if user is None:
        return render_template("auth/sign_in.html", form=form), 422
    if user.totp_secret:
        return redirect(url_for("auth.sign_in_code"), 303)
    return redirect(next_url or url_for("staff.home"), 303)


def _check_password(db: Session, form: SignInForm) -> User | None:
    try:
        return auth.check_password(db, form.username.data, form.password.data, now=sessions.now())
    except auth.WrongCredentials:  # a locked account included: see auth.WrongCredentials
        form.add_error("", _no_match_message())
        return None
    except auth.SignInError as error:
        form.add_error("", translated(error))
        return None


def _complete_sign_in(
    db: Session, form: SignInForm | CodeForm, user: User, *, with_code: bool
) -> User | None:
    try:
        auth.complete_sign_in(db, user, with_code=with_code, now=sessions.now())
    except auth.AccountLocked as error:
        if with_code:
            form.add_error("code", _code_error(error))
        else:
            form.add_error("", _no_match_message())
        return None
    return user


def _no_match_message() -> str:
    return str(
        ngettext(
            "That user name and password do not match, or the account is locked for a while "
            "after too many attempts. Wait %(num)d minute or ask an administrator.",
            "That user name and password do not match, or the account is locked for a while "
            "after too many attempts. Wait %(num)d minutes or ask an administrator.",
            auth.DEFAULT_LOCKOUT.minutes,
        )
    )


def _code_error(error: auth.SignInError) -> str:
    if isinstance(error, auth.AccountLocked):
        # Only someone who knows the password gets this far: the lock may be told.
        return str(
            ngettext(
                "Too many wrong attempts: this account is locked for a while. Wait %(num)d "
                "minute or ask an administrator.",
                "Too many wrong attempts: this account is locked for a while. Wait %(num)d "
                "minutes or ask an administrator.",
                auth.DEFAULT_LOCKOUT.minutes,
            )
        )
    return translated(error)


@blueprint.route("/sign-in/code", methods=["GET", "POST"])
@rule(public=True)
def sign_in_code() -> Page:
    identifier = sessions.pending_identifier()
    user = sessions.load_user(identifier) if identifier else None
    if user is None:
        flash(_("Please sign in with your user name and password first."), "info")
        return redirect(url_for("auth.sign_in"))
    form = CodeForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("auth/code.html", form=form), status
    refused = _refused_attempt()
    if refused is not None:
        return _too_many_attempts(refused.retry_after_seconds)
    next_url = same_site_path(sessions.pending_next())
    with app_state().database.session() as db:
        fresh = _reloaded(db, user)
        try:
            auth.check_code(
                db, fresh, form.code.data, now=sessions.now(), totp_key=app_state().totp_key
            )
        except auth.SignInError as error:
            form.add_error("code", _code_error(error))
            failed = True
        else:
            failed = _complete_sign_in(db, form, fresh, with_code=True) is None
    if failed:
        return render_template("auth/code.html", form=form), 422
    sessions.start(fresh)
    return redirect(next_url or url_for("staff.home"), 303)


@blueprint.post("/sign-out")
@rule(during_setup=True)
def sign_out() -> BaseResponse:
    user = current_user()
    with app_state().database.session() as db:
        auth.record_sign_out(db, _reloaded(db, user))
    sessions.end()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.sign_in"), 303)


@blueprint.before_app_request
def _quick_exit_signs_out_everywhere() -> None:
    """The quick exit, sent by a signed-in staff member with their form token, ends their
    session on the server too: a copy of the session cookie (a shared computer, a proxy) stops
    working at once. Only the POST the exit button sends does it; a GET of /exit changes
    nothing (see `sessions.end_on_quick_exit`)."""
    if request.endpoint == "respond.quick_exit" and request.method == "POST":
        sessions.end_on_quick_exit("quick exit")


@blueprint.route("/password", methods=["GET", "POST"])
@rule(during_setup=True)
def change_password() -> Page:
    user = current_user()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with app_state().database.session() as db:
            fresh = _reloaded(db, user)
            try:
                auth.change_password(db, fresh, form.current.data, form.new.data, form.repeat.data)
            except auth.PasswordChangeError as error:
                form.add_error(_password_field(error), translated(error))
            else:
                sessions.renew(fresh)
                flash(_("Your password has been changed."), "success")
                return redirect(url_for("staff.home"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "auth/password.html", form=form, forced=user.must_change_password
    ), status


def _password_field(error: auth.PasswordChangeError) -> str:
    if isinstance(error, auth.WrongCurrentPassword):
        return "current"
    if isinstance(error, auth.PasswordsDiffer):
        return "repeat"
    return "new"


@blueprint.route("/two-factor", methods=["GET", "POST"])
@rule(during_setup=True)
def two_factor() -> Page:
    user = current_user()
    if user.must_change_password:
        return redirect(url_for("auth.change_password"))
    if user.totp_secret:
        session.pop(ENROLMENT_KEY, None)
        return render_template("auth/two_factor_on.html")
    # The secret waits in the (signed) session cookie of the person enrolling, until they prove
    # their app holds it; only then is it stored.
    secret = session.get(ENROLMENT_KEY)
    if not isinstance(secret, str):
        secret = auth.new_totp_secret()
        session[ENROLMENT_KEY] = secret
    form = TwoFactorForm()
    if form.validate_on_submit():
        with app_state().database.session() as db:
            fresh = _reloaded(db, user)
            try:
                auth.enrol_two_factor(
                    db,
                    fresh,
                    secret,
                    form.code.data,
                    now=sessions.now(),
                    totp_key=app_state().totp_key,
                )
            except auth.SignInError as error:
                form.add_error("code", translated(error))
            else:
                session.pop(ENROLMENT_KEY, None)
                flash(_("Two-step sign-in is on."), "success")
                return redirect(url_for("staff.home"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "auth/two_factor.html",
        form=form,
        secret=auth.grouped(secret),
        uri=auth.provisioning_uri(secret, user.username),
        required=auth.requires_two_factor(user),
    ), status


def _reloaded(db: Session, user: User) -> User:
    """The signed-in user's row, read afresh inside this transaction."""
    fresh = db.get(User, user.id)
    if fresh is None:  # deleted since the request began
        abort(404)
    return fresh


def _refused_attempt() -> Refused | None:
    state = app_state()
    key = "sign-in:" + state.limiter.client_key(request.remote_addr)
    return state.limiter.hit(Limit(key, SIGN_IN_ATTEMPTS_PER_MINUTE))


def _too_many_attempts(retry_after_seconds: int) -> BaseResponse:
    """429 saying when to try again, in the page and in Retry-After."""
    minutes = max(1, -(-retry_after_seconds // 60))
    message = ngettext(
        "Too many sign-in attempts from here in a short time. Please wait %(num)d minute, "
        "then try again.",
        "Too many sign-in attempts from here in a short time. Please wait %(num)d minutes, "
        "then try again.",
        minutes,
    )
    return too_many_requests(retry_after_seconds, str(message))


@blueprint.post("/language")
@rule(public=True)
def language() -> BaseResponse | tuple[str, int]:
    """The staff member's interface language, for this session (chosen on the sign-in page too,
    and kept through signing in); back to the page they were on."""
    chosen = request.form.get("lang", "")
    if chosen not in UI_LANGUAGES:
        return render_error(422, _("Please choose one of the languages offered."))
    session["lang"] = chosen
    back = same_site_path(request.form.get("next")) or url_for("staff.home")
    return redirect(back, 303)
