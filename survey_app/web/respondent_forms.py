"""The form token (CSRF) of a respondent's pages, bound to a cookie of its own.

Staff forms use Flask-WTF's token, kept in the signed session. A respondent's pages need no
session for anything else, and reading and re-signing one cost more on each page than the rest of
the check. Here the browser holds a random value in a cookie (`COOKIE`: HttpOnly, SameSite=Lax,
Secure outside development, gone with the browser session or a quick exit), and each form carries
a keyed hash of it (HMAC-SHA256 under a key derived from the app's secret key). A page on another
site can neither read the cookie nor compute the hash, so it cannot send a form that passes:
the same protection as Flask-WTF's token in the signed session cookie, without the session.

The token stays the same for the cookie's life, so a second tab or a page sent twice passes; the
draft field that every page after the first carries is what makes an old page open nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any, TypeGuard

from flask import Flask, Response, current_app, g, request
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response as BaseResponse

COOKIE = "f"
FIELD = "csrf_token"
_PURPOSE = b"survey_app respondent form token"
_NEW_VALUE = "survey_app_respondent_form_cookie"
_KEY = "survey_app.respondent_form_key"
_CHECKED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def token() -> str:
    """The token a respondent's form carries (for templates: `csrf_token()`)."""
    # A browser without the cookie yet: one new value for this request's pages and forms.
    value = browser() or g.get(_NEW_VALUE) or g.setdefault(_NEW_VALUE, secrets.token_urlsafe(32))
    return _sign(_key(current_app), value)


def browser() -> str | None:
    """The value this browser's cookie holds, if it sent one this app set: random, and the
    same for every page until the browser session ends or a quick exit."""
    value = request.cookies.get(COOKIE)
    return value if _well_formed(value) else None


def check() -> None:
    """Refuse a form sent without this browser's token (CSRFError: the app's 400 page)."""
    if request.method not in _CHECKED_METHODS or not current_app.config.get(
        "WTF_CSRF_ENABLED", True
    ):
        return
    sent = request.form.get(FIELD)
    if not sent:
        raise CSRFError("The CSRF token is missing.")
    value = browser()
    if value is None:
        raise CSRFError("The CSRF session token is missing.")
    if not _matches(value, sent):
        raise CSRFError("The CSRF tokens do not match.")


def carries_token() -> bool:
    """Whether the form sent carries this browser's token (for the quick exit, which works
    without one but does more with one)."""
    value, sent = browser(), request.form.get(FIELD)
    return value is not None and sent is not None and _matches(value, sent)


def _matches(value: str, sent: str) -> bool:
    # As bytes: compare_digest refuses a str with characters outside ASCII.
    return hmac.compare_digest(_sign(_key(current_app), value).encode(), sent.encode())


def set_cookie_if_new(response: Response) -> Response:
    """Give the browser the value its page's token was made from, if it had none."""
    value = g.get(_NEW_VALUE)
    if value is not None:
        response.set_cookie(COOKIE, value, **_cookie_options())
    return response


def forget(response: BaseResponse) -> BaseResponse:
    """Ask the browser to drop the cookie (the quick exit: not every browser honours
    Clear-Site-Data)."""
    response.delete_cookie(COOKIE, **_cookie_options())
    return response


def _cookie_options() -> dict[str, Any]:
    # As the session cookie's settings say (HttpOnly, SameSite, Secure outside development);
    # gone with the browser session (no expiry).
    config = current_app.config
    return {
        "path": "/",
        "httponly": bool(config["SESSION_COOKIE_HTTPONLY"]),
        "samesite": config["SESSION_COOKIE_SAMESITE"],
        "secure": bool(config["SESSION_COOKIE_SECURE"]),
    }


def _sign(key: bytes, value: str) -> str:
    digest = hmac.new(key, value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _well_formed(value: str | None) -> TypeGuard[str]:
    # 32 random bytes in URL-safe base64; anything else is not a value this app set.
    return value is not None and len(value) == 43


def _key(app: Flask) -> bytes:
    """The signing key, derived from the app's secret key once (again if the secret changes)."""
    secret = app.secret_key
    kept: tuple[object, bytes] | None = app.extensions.get(_KEY)
    if kept is None or kept[0] != secret:
        raw = secret.encode() if isinstance(secret, str) else bytes(secret or b"")
        kept = app.extensions[_KEY] = (secret, hmac.new(raw, _PURPOSE, hashlib.sha256).digest())
    return kept[1]
