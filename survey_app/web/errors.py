"""Error pages: a clear message and the right status, never a traceback.

Staff pages (under /staff, /admin, /auth and /reports) get their errors inside the staff
layout, with a way back home; everything else, the respondents' pages above all, gets the
neutral page with the quick-exit bar.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..operations.failures import describe

log = logging.getLogger("survey_app.errors")


def _messages() -> dict[int, str]:
    return {
        400: _("The form could not be read. Please go back and try again."),
        403: _("You are not allowed to open this page."),
        404: _("This page does not exist. Please check the link you were given."),
        405: _("This page cannot be used that way."),
        413: _("What you sent is too large. Please shorten your answers and try again."),
        429: _("Too many attempts in a short time. Please wait a minute and try again."),
        # Not "nothing was stored": the error may come after the answers were stored, and a
        # page sent again is never counted twice (see survey_app.intake.drafts).
        500: _("Something went wrong on our side. Please go back and try again."),
    }


def _staff_messages() -> dict[int, str]:
    return {
        403: _(
            "Your role does not let you open this page. If you need it, ask an administrator of your programme."
        ),
        404: _("This page does not exist. Check the address, or start again from your home page."),
    }


STAFF_PREFIXES = ("/staff", "/admin", "/auth", "/reports")


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def render_error(status: int, message: str | None = None, **context: Any) -> tuple[str, int]:
    if is_staff_page(request.path):
        text = message or _staff_messages().get(status) or _messages().get(status)
        try:
            return render_template(
                "staff/error.html", status=status, message=text or _messages()[400], **context
            ), status
        except Exception as error:  # the staff layout itself failed: the plain page answers
            log.error("staff error page failed with %s; plain page shown", type(error).__name__)
    text = message or _messages().get(status, _messages()[400])
    return render_template("error.html", status=status, message=text, **context), status


def too_many_requests(retry_after_seconds: int, message: str | None = None) -> Response:
    """429 with Retry-After; the page gets `retry_after_seconds` to say when to try again
    (a staff page shows `message`, which should say it)."""
    body, status = render_error(429, message, retry_after_seconds=retry_after_seconds)
    response = make_response(body, status)
    response.headers["Retry-After"] = str(retry_after_seconds)
    return response


def is_staff_page(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in STAFF_PREFIXES)


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return render_error(
        400,
        _(
            "This form has expired or was sent from somewhere else. Please go back, reload the page and try again."
        ),
    )


def _http_error(error: HTTPException) -> Any:
    if error.code is None or error.code < 400:
        return error
    return render_error(
        error.code, error.description if getattr(error, "user_facing", False) else None
    )


def _unexpected_error(error: Exception) -> tuple[str, int]:
    # The exception's message may quote what a respondent typed, so only its cause as far as it
    # is safe (see `failures`), the route's name (never its path) and where it was raised are
    # logged, on one line.
    frames = " < ".join(
        f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"
        for frame in reversed(traceback.extract_tb(error.__traceback__))
    )
    log.error(
        "unhandled error on %s %s: %s; at %s",
        request.method,
        request.endpoint or "(no route)",
        describe(error),
        frames,
    )
    # What the failed request loaded may be unusable now (a rolled-back session): the error
    # page is shown with the neutral title rather than failing in its turn.
    g.pop("programme", None)
    return render_error(500)
