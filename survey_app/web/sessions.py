"""Staff sessions: Flask-Login, kept short and easy to end.

- Session protection "strong": a session cookie replayed from another browser is dropped. The
  browser fingerprint Flask-Login keeps for this is keyed with the app's secret, so the cookie
  does not carry a hash from which someone could recover the address.
- Signing in clears the session and starts a new one (fresh cookie, new random nonce), so a
  session planted before sign-in is worth nothing.
- A session ends after `security.staff_idle_minutes` without a request and after
  `security.staff_absolute_hours` in any case.
- The user id in the session carries the user's `session_epoch`; raising the epoch (sign-out,
  password change or reset, role change) ends every session of that user, including copies of
  the cookie.

Time comes from `now()`, which tests replace through `app.extensions[CLOCK]`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import ngettext
from flask_login import (  # type: ignore[import-untyped]
    LoginManager,
    current_user,
    login_user,
    logout_user,
)
from flask_wtf.csrf import validate_csrf
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload
from wtforms.validators import ValidationError

from ..models import User
from ..operations.failures import describe
from ..staff import auth
from ..state import app_state
from . import respondent_forms

log = logging.getLogger(__name__)

CLOCK = "survey_app.clock"
STARTED = "staff_since"
SEEN = "staff_seen"
NONCE = "staff_nonce"
PENDING_USER = "pending_user"
PENDING_SINCE = "pending_since"
PENDING_NEXT = "pending_next"
# The password step is valid this long while the person finds their authenticator app.
PENDING_MINUTES = 5


def now() -> datetime:
    clock: Callable[[], datetime] = current_app.extensions.get(CLOCK, _system_time)
    return clock()


def _system_time() -> datetime:
    return datetime.now(UTC)


class StaffUser:
    """What Flask-Login holds: a signed-in user, detached from the database session."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return session_id(self.user)


def session_id(user: User) -> str:
    return f"{user.id}:{user.session_epoch}"


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed session cookie, with its signer built once per set of keys.

    Flask builds a new serializer (and checks what its JSON serializer returns) twice for every
    request, to read the cookie and to write it back; the keys change only with the settings.
    """

    def __init__(self) -> None:
        self._kept: tuple[tuple[object, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        kept = self._kept
        if kept is None or kept[0] != keys:
            kept = self._kept = (keys, super().get_signing_serializer(app))
        return kept[1]


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()
    manager = LoginManager()
    manager.session_protection = "strong"
    # Flask-Login's own identifier is an unkeyed hash of address and browser; see the docstring.
    manager._session_identifier_generator = _keyed_identifier
    manager.user_loader(_load_user)
    # No `current_user` in templates: loading the user for every page, a respondent's too, ran
    # the session-protection check, which rewrote every respondent's session cookie.
    manager.init_app(app, add_context_processor=False)


def _keyed_identifier() -> str:
    forwarded = request.headers.get("X-Forwarded-For", request.remote_addr or "")
    browser = request.headers.get("User-Agent", "")
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{forwarded}|{browser}".encode(), hashlib.sha256).hexdigest()


def load_user(identifier: str) -> User | None:
    """The active user whose current session id this is, with memberships loaded."""
    user_id, _sep, epoch = identifier.partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    with app_state().database.session() as db:
        user = db.scalar(
            select(User).options(selectinload(User.memberships)).where(User.id == int(user_id))
        )
        if user is None or not user.active or user.session_epoch != int(epoch):
            return None
        db.expunge(user)
        return user


def _load_user(identifier: str) -> StaffUser | None:
    user = load_user(identifier)
    return StaffUser(user) if user is not None else None


def session_values(user: User, moment: datetime) -> dict[str, object]:
    """Everything a new staff session holds (also used by tests to open one directly)."""
    return {
        "_user_id": session_id(user),
        "_fresh": True,
        "_id": _keyed_identifier(),
        NONCE: secrets.token_urlsafe(16),
        STARTED: moment.timestamp(),
        SEEN: moment.timestamp(),
    }


# What a new session keeps of the one before: only the interface language the person chose
# (nothing that says who they are or what they did).
KEPT_ACROSS_SIGN_IN = ("lang",)


def _clear_keeping_language() -> None:
    kept = {key: session[key] for key in KEPT_ACROSS_SIGN_IN if key in session}
    session.clear()
    session.update(kept)


def start(user: User) -> None:
    """Sign in: throw away whatever the session held (but its language), and begin a new one."""
    _clear_keeping_language()
    login_user(StaffUser(user))
    session.update(session_values(user, now()))


def renew(user: User) -> None:
    """Keep the current session going after the user's epoch changed (own password change)."""
    started = session.get(STARTED)
    start(user)
    if isinstance(started, float):
        session[STARTED] = started


def end() -> None:
    # Cleared first: logging out a user not loaded yet would load them from the database, and
    # ending a session (the quick exit) must not depend on the database answering.
    session.clear()
    logout_user()


def end_on_quick_exit(reason: str) -> None:
    """A signed-in staff member's quick exit: the session ends in this browser, and on the
    server too (every copy of the cookie stops working) when the exit carries their form token,
    so that a request forged on another site cannot sign anyone out of every device."""
    try:
        user = signed_in_user()
        if user is not None and _carries_form_token():
            with app_state().database.session() as db:
                fresh = db.get(User, user.id)
                if fresh is not None:
                    auth.record_sign_out(db, fresh, reason=reason)
    except SQLAlchemyError as error:
        # Leaving must work even then: this browser's session still ends below.
        log.error("quick exit could not end the session on the server: %s", describe(error))
    end()


def _carries_form_token() -> bool:
    # A staff page's exit carries the session's token; a respondent page's (a caseworker who
    # opened a survey link in the same browser) carries the respondent form token instead.
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return respondent_forms.carries_token()
    return True


def signed_in_user() -> User | None:
    """The signed-in user, or None; ends a session that has been idle or open too long."""
    staff = current_user
    if not isinstance(staff, StaffUser):
        return None
    reason = _expiry_reason(now())
    if reason is not None:
        end()
        session["ended"] = reason
        return None
    session[SEEN] = now().timestamp()
    return staff.user


def _expiry_reason(moment: datetime) -> str | None:
    limits = app_state().settings.security
    started, seen = session.get(STARTED), session.get(SEEN)
    if not isinstance(started, float) or not isinstance(seen, float):
        return "unknown"
    if moment.timestamp() - started > timedelta(hours=limits.staff_absolute_hours).total_seconds():
        return "absolute"
    if moment.timestamp() - seen > timedelta(minutes=limits.staff_idle_minutes).total_seconds():
        return "idle"
    return None


def take_ended_message() -> str | None:
    """Why the last session ended, once, in the page's language."""
    reason = session.pop("ended", None)
    limits = app_state().settings.security
    if reason == "absolute":
        return str(
            ngettext(
                "You were signed out because your session reached %(num)d hour. Please sign in "
                "again.",
                "You were signed out because your session reached %(num)d hours. Please sign "
                "in again.",
                limits.staff_absolute_hours,
            )
        )
    if reason == "idle":
        return str(
            ngettext(
                "You were signed out after %(num)d minute without activity. Please sign in again.",
                "You were signed out after %(num)d minutes without activity. Please sign in again.",
                limits.staff_idle_minutes,
            )
        )
    return None


def begin_second_step(user: User, next_url: str | None) -> None:
    """Password accepted: remember who is half-way through signing in, nothing more (and the
    language the pages are read in)."""
    _clear_keeping_language()
    session[PENDING_USER] = session_id(user)
    session[PENDING_SINCE] = now().timestamp()
    if next_url:
        session[PENDING_NEXT] = next_url


def pending_identifier() -> str | None:
    identifier, since = session.get(PENDING_USER), session.get(PENDING_SINCE)
    if not isinstance(identifier, str) or not isinstance(since, float):
        return None
    if now().timestamp() - since > PENDING_MINUTES * 60:
        session.clear()
        return None
    return identifier


def pending_next() -> str | None:
    value = session.get(PENDING_NEXT)
    return value if isinstance(value, str) else None
