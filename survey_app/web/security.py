"""Headers every response carries, and an access log that cannot identify anyone.

Staff requests are logged one line each: method, path, status and duration, never an address,
user agent, referrer or query string (a query string could carry anything). Respondent requests
(everything outside the staff areas, static files included, and a caseworker's assisted entry)
are never logged one by one: they are only counted per day, route pattern and status
(`survey_app.operations.traffic`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from ..config import Settings
from ..operations.traffic import TrafficCounter
from ..state import app_state
from .errors import is_staff_page

access_log = logging.getLogger("survey_app.access")


def content_security_policy(quick_exit_url: str) -> str:
    """The policy of every page. The quick-exit form may end at the neutral site: CSP's
    form-action also governs where the form's redirect goes, so that one origin is allowed."""
    exit_origin = "{0.scheme}://{0.netloc}".format(urlsplit(quick_exit_url))
    return "; ".join(
        part if part != "form-action 'self'" else f"form-action 'self' {exit_origin}"
        for part in _POLICY
    )


_POLICY = (
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self'",
    "font-src 'none'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
)


ROUTE_KEY = "survey_app.route"
# A caseworker entering a survivor's answers is a respondent's submission too: counted only.
ASSISTED_ENTRY = "/staff/assist/"


HEADERS_KEY = "survey_app.headers"


def init_app(app: Flask) -> None:
    # First of the app's before_request functions, so it runs whatever the others decide.
    app.before_request(_note_route)
    app.after_request(_add_headers)
    app.extensions[HEADERS_KEY] = _headers(app_state(app).settings)
    app.wsgi_app = AccessLogMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, app_state(app).traffic
    )


def _note_route(*_args: Any) -> None:
    if request.url_rule is not None:
        request.environ[ROUTE_KEY] = request.url_rule.rule


def _headers(settings: Settings) -> tuple[tuple[str, str], ...]:
    """The headers every response carries; built once, from settings that never change."""
    headers = [
        ("Content-Security-Policy", content_security_policy(settings.respondent.quick_exit_url)),
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ]
    if not settings.is_development:
        headers.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
    return tuple(headers)


# Nothing a respondent or staff member saw may be kept by the browser or a proxy.
_NO_STORE = (("Cache-Control", "no-store, max-age=0"), ("Pragma", "no-cache"), ("Expires", "0"))


# The app's own files and the surveys' pictures: the same for everyone, nothing anyone answered.
_CACHEABLE = frozenset({"static", "media.picture"})


def _add_headers(response: Response) -> Response:
    headers = response.headers
    # Most of these are not set yet: adding is cheaper than Headers' replace-if-present.
    present = {name.lower() for name, _value in headers}
    fixed = current_app.extensions[HEADERS_KEY]
    cacheable = request.endpoint in _CACHEABLE
    for name, value in fixed if cacheable else (*fixed, *_NO_STORE):
        if name.lower() in present:
            headers[name] = value
        else:
            headers.add(name, value)
    return response


StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class AccessLogMiddleware:
    """One line per staff request; respondent requests only counted."""

    def __init__(self, app: WSGIApp, traffic: TrafficCounter) -> None:
        self.app = app
        self.traffic = traffic

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        status_holder: list[str] = []

        def recording_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            status_holder.append(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, recording_start_response)
        finally:
            method = str(environ.get("REQUEST_METHOD", "-"))
            path = str(environ.get("PATH_INFO", "-"))
            status = status_holder[0] if status_holder else "-"
            if is_staff_page(path) and not path.startswith(ASSISTED_ENTRY):
                access_log.info(
                    "%s %s %s %.0fms", method, path, status, (time.perf_counter() - started) * 1000
                )
            else:
                self.traffic.count(
                    f"{method} {_route(environ)}", int(status) if status.isdigit() else 0
                )


def _route(environ: dict[str, Any]) -> str:
    """The pattern of the route that answered (``/s/<token>``), never the path."""
    return str(environ.get(ROUTE_KEY, "(no such page)"))
